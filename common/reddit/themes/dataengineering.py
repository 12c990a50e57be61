"""Themes of r/dataengineering."""

from common.reddit.themes import Theme

SUBREDDIT = "dataengineering"

THEMES = (
    Theme(
        "orchestration",
        (
            "Airflow vs {x} for a small data team",
            "Moving off cron jobs: is {x} overkill?",
            "Backfills with {x}: how do you make reruns safe?",
        ),
        ("Dagster", "Prefect", "Temporal", "Kestra", "Argo Workflows"),
        (
            "We have about sixty pipelines on cron and a growing fear of touching them. {x} "
            "came up as an option and I would like to hear from teams of three to five people.",
            "The real requirement is idempotent tasks: a rerun of yesterday must overwrite "
            "yesterday's partition, never append duplicates.",
            "Retries with backoff at the task level plus alerts on the final failure covered "
            "most of what we needed; the UI for backfills was the big productivity win.",
            "Asset-based orchestration made lineage visible, which ended a lot of 'who uses this "
            "table' conversations.",
        ),
        (
            "Idempotency first, orchestrator second. No tool fixes non-idempotent jobs.",
            "Dagster's asset model clicked for our team faster than Airflow DAGs.",
            "Managed Airflow is fine, but upgrades are still painful.",
            "Partition everything by date and backfills become trivial.",
            "Start with retries and alerting. Fancy scheduling can wait.",
            "Temporal is great for long-running business workflows, less so for SQL pipelines.",
        ),
    ),
    Theme(
        "warehouse",
        (
            "Snowflake costs doubled: how we brought them down with {x}",
            "Did {x} actually lower your warehouse bill?",
            "dbt and {x}: lessons from a year at scale",
        ),
        ("incremental models", "query tagging", "smaller warehouses", "DuckDB for ad-hoc work"),
        (
            "Most of the cost came from a handful of dashboards refreshing every five minutes "
            "over full tables; moving them to incremental models cut compute by half.",
            "For ad-hoc analytics under a terabyte, DuckDB on a single machine reading Parquet "
            "from object storage answered nearly every question in seconds.",
            "Warehouse auto-suspend settings and right-sized warehouses per workload were the "
            "other quick wins.",
            "Tests in dbt on uniqueness and freshness caught more real problems than any "
            "monitoring tool we bought.",
        ),
        (
            "Check the query history for the top ten consumers. It is always a dashboard.",
            "DuckDB is absurdly fast for anything that fits on one box.",
            "Incremental models are the single biggest cost lever.",
            "Freshness tests are the cheapest data observability you will ever get.",
            "Auto-suspend at 60 seconds, not the default.",
            "Parquet plus DuckDB plus a good laptop covers more analytics than people admit.",
        ),
    ),
    Theme(
        "streaming",
        (
            "Event streaming with {x}: is it production-ready for a mid-size company?",
            "Exactly-once processing: myth or achievable with {x}?",
            "Outbox pattern with {x}: lessons learned",
        ),
        ("Redpanda", "Postgres", "MongoDB change streams", "Debezium"),
        (
            "We publish domain events from the service database with the transactional outbox "
            "pattern: the event row is written in the same transaction as the business change.",
            "A relay reads the outbox with {x} and publishes to the broker; consumers are "
            "idempotent because delivery is at least once, whatever the marketing says.",
            "Ordering per key mattered more than global ordering; partitioning by aggregate id "
            "gave us what we needed.",
            "Poison messages need a dead-letter path with the error attached, or one bad event "
            "blocks a whole partition.",
        ),
        (
            "Outbox plus idempotent consumers is the only exactly-once I believe in.",
            "Debezium reading the outbox table worked well for us once the connector was tuned.",
            "Dead-letter queues with the original error message saved hours of debugging.",
            "Redpanda was easier to operate than Kafka for our small team.",
            "Change streams are nice but plan for resume tokens expiring.",
            "Partition by aggregate id. Global ordering is almost never needed.",
        ),
    ),
    Theme(
        "quality",
        (
            "Data quality checks on data from {x} that actually caught problems",
            "How do you handle schema changes from {x}?",
            "Data contracts between {x} and analytics: worth it?",
        ),
        ("upstream teams", "product databases", "third-party APIs", "event producers"),
        (
            "Schema changes from {x} broke our pipelines twice a month. A contract with the "
            "producing team, checked in their CI, reduced that to almost zero.",
            "The checks that mattered were simple: row counts against yesterday, null rates on "
            "key columns, and freshness of each source.",
            "Quarantining bad rows instead of failing the whole load kept the dashboards "
            "available while we fixed the source.",
        ),
        (
            "Put the contract test in the producer's CI. That is the whole trick.",
            "Row count deltas catch most silent failures.",
            "Quarantine, alert, continue. Failing everything punishes the consumers.",
            "Great Expectations was too heavy for us; plain SQL checks in dbt did the job.",
            "Version your event schemas and never reuse a field name with a new meaning.",
        ),
    ),
    Theme(
        "llmdata",
        (
            "Using LLMs to clean and classify {x}: results and costs",
            "Running batch LLM jobs over {x} without blowing the budget",
            "Making LLM steps over {x} reproducible and retryable",
        ),
        ("support tickets", "product reviews", "millions of rows", "log messages"),
        (
            "We classify {x} with an LLM in a nightly batch. The provider rate limits us "
            "constantly, so the pipeline had to become resumable at the row level.",
            "Each call's result is stored with a hash of the input and the prompt version, so "
            "a rerun after a 429 or a crash skips everything that already succeeded.",
            "Cheap models with validation and a retry on malformed output beat expensive models "
            "on cost, with similar accuracy on our labelled sample.",
            "Tracking tokens and cost per run in the job metadata made the finance conversation "
            "easy.",
        ),
        (
            "Cache by input hash plus prompt version. Never pay twice for the same row.",
            "Respect Retry-After and spread the batch over time; bursting just gets you throttled.",
            "Validate the output with a schema and retry only the invalid rows.",
            "Small models fine for classification, we use the big one only for hard cases.",
            "Store cost per run. It changes how people design prompts.",
            "Checkpoint progress often; a batch that restarts from zero is a budget leak.",
        ),
    ),
)
