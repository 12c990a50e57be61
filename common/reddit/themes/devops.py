"""Themes of r/devops."""

from common.reddit.themes import Theme

SUBREDDIT = "devops"

THEMES = (
    Theme(
        "incidents",
        (
            "Postmortem: a retry storm took down our {x}",
            "Blameless postmortems for {x} outages: how do you make fixes actually happen?",
            "On-call burnout: what changed after we cut alerts for {x} by 70%",
        ),
        ("API gateway", "payment service", "queue workers", "search cluster"),
        (
            "A dependency of our {x} slowed down, clients retried immediately with no backoff, "
            "and the extra load turned a slowdown into a full outage that lasted 90 minutes.",
            "The fixes: exponential backoff with jitter in every client, retry budgets, circuit "
            "breakers on the hot paths and a queue so bursts are absorbed instead of amplified.",
            "We also learned that our dashboards showed averages; the p99 latency had been "
            "climbing for a week before the incident.",
            "Action items only get done when they have an owner and a date in the same ticket "
            "system as feature work.",
        ),
        (
            "Retry budgets are underrated. Cap retries at a percentage of total traffic.",
            "Jitter, jitter, jitter. Synchronized retries are a self-inflicted DDoS.",
            "Alert on symptoms users feel, not on every CPU spike.",
            "Put the postmortem action items in the sprint, or they never happen.",
            "Circuit breakers saved us during the last provider outage.",
            "Make the queue the buffer. Synchronous chains of services fail together.",
            "We track time-to-detect separately from time-to-resolve; detection was our weak spot.",
        ),
    ),
    Theme(
        "kubernetes",
        (
            "Do we really need Kubernetes for {x}?",
            "Moving {x} from VMs to Kubernetes: what we underestimated",
            "Graceful shutdown of {x} on Kubernetes: SIGTERM, preStop and lost work",
        ),
        ("background job workers", "a small SaaS", "stateful services", "queue consumers"),
        (
            "We run {x} and the platform team wants everything on Kubernetes. The operational "
            "overhead for a handful of services seems hard to justify.",
            "The part we underestimated was not the cluster but everything around it: ingress, "
            "certificates, secrets, observability and upgrades every few months.",
            "Workers lost jobs on every deploy until we handled SIGTERM properly: stop claiming "
            "new work, finish or release what is in flight, then exit within the grace period.",
            "Horizontal autoscaling on queue depth instead of CPU was the change that made the "
            "workers behave well under bursts.",
        ),
        (
            "For a few services a managed container platform is plenty. Kubernetes pays off "
            "at scale.",
            "terminationGracePeriodSeconds plus a preStop sleep fixed our dropped requests.",
            "Scale workers on queue lag, not CPU. CPU tells you nothing about backlog.",
            "Leases with heartbeats beat 'delete the job when you pick it up' every time.",
            "Managed Kubernetes still needs someone who understands networking.",
            "Make your jobs idempotent and redelivery stops being scary.",
        ),
    ),
    Theme(
        "observability",
        (
            "OpenTelemetry in production: worth the complexity for {x}?",
            "What do you alert on for {x}?",
            "Logs, metrics or traces first for {x}?",
        ),
        ("a job queue", "LLM applications", "microservices", "batch pipelines"),
        (
            "For {x} we started with structured JSON logs and a few Prometheus counters: jobs "
            "started, succeeded, failed, retried, and the age of the oldest pending job.",
            "The oldest-pending-age metric turned out to be the best single alert; it catches "
            "stuck workers, crashed consumers and capacity problems alike.",
            "Tracing helped with cross-service latency but cost real money at full sampling; tail "
            "sampling on errors and slow requests kept the useful part.",
            "Cardinality is the silent budget killer: one label with user ids and the metrics "
            "bill doubled.",
        ),
        (
            "Queue age is the metric. Depth alone lies when throughput changes.",
            "Structured logs with a request or job id get you 80 percent of tracing for free.",
            "Never put ids in metric labels.",
            "Tail-based sampling is the only sane way to afford traces.",
            "Alert on SLO burn rate and delete the rest.",
            "For LLM apps we also track tokens and cost per request; finance asks weekly.",
        ),
    ),
    Theme(
        "cicd",
        (
            "Our CI bill on {x} tripled: how do you cut it?",
            "Self-hosted runners vs {x}: real numbers",
            "Deploying ten times a day on {x}: what made it safe for us",
        ),
        ("GitHub Actions", "GitLab CI", "Buildkite", "CircleCI"),
        (
            "Our CI bill tripled in a year. Most of it was redundant work: every push ran the "
            "full matrix, caches missed because keys included timestamps, and docker builds ran "
            "uncached.",
            "Moving to self-hosted runners on spot instances cut cost by about 60 percent but "
            "added maintenance: image updates, cleanup, and the occasional runner that dies "
            "mid-job.",
            "Feature flags and small batches matter more than pipeline speed for safe deploys; "
            "we deploy ten times a day and rollbacks are rare because each change is tiny.",
            "Path filters and a merge queue removed most of the wasted runs.",
        ),
        (
            "Cache keys on lockfile hashes only. Timestamps in keys mean zero hits.",
            "Spot runners are great until they are preempted during a release. Keep one on-demand.",
            "Merge queues changed our lives. No more broken main.",
            "Small batches are the real safety mechanism; the pipeline just enables them.",
            "Run the slow integration suite on merge, not on every push.",
            "Measure CI minutes per merged PR; it makes the waste visible.",
        ),
    ),
    Theme(
        "terraform",
        (
            "How do you structure Terraform state for {x}?",
            "Terraform drift in {x}: do you run plan on a schedule?",
            "Terraform or OpenTofu modules for {x}: how do you version them?",
        ),
        ("many environments", "a multi-account AWS setup", "a platform team", "a monorepo"),
        (
            "We manage {x} and the state layout decides everything: blast radius, plan time and "
            "how many people can work in parallel without lock contention.",
            "One state per environment per component worked best for us; a single giant state "
            "took eight minutes to plan and every change was scary.",
            "A nightly plan in CI that posts drift to a channel caught several console changes "
            "that would otherwise have been reverted silently during the next apply.",
        ),
        (
            "Small states, clear ownership, and remote state outputs for the glue.",
            "Nightly plan for drift is a must. Console cowboys exist in every company.",
            "OpenTofu has been a drop-in replacement for us so far.",
            "Pulumi is nice if your team already lives in TypeScript or Python.",
            "Module versioning saved us from a lot of accidental changes.",
        ),
    ),
)
