"""Themes of r/MachineLearning."""

from common.reddit.themes import Theme

SUBREDDIT = "MachineLearning"

THEMES = (
    Theme(
        "evaluation",
        (
            "[D] How do you evaluate {x} beyond vibes?",
            "[D] Our offline metrics for {x} did not predict production quality",
            "[R] A cheap evaluation harness for {x}: lessons from six months",
        ),
        ("RAG systems", "LLM agents", "summarization models", "fine-tuned classifiers"),
        (
            "We ship {x} and our evaluation is a spreadsheet of fifty hand-picked examples. "
            "Every model or prompt change turns into an argument about which outputs look better.",
            "What helped: a frozen test set sampled from real traffic, pairwise comparisons judged "
            "by a stronger model, and a small human-labelled subset to check the judge itself.",
            "Offline metrics drifted from production because the traffic mix changed; re-sampling "
            "the test set every quarter fixed most of the mismatch.",
            "For agents, we score trajectories, not only final answers: did it call the right "
            "tools, how many steps, how many tokens, did it cite real sources.",
        ),
        (
            "LLM-as-judge is fine if you validate the judge against humans regularly.",
            "Track cost and latency next to quality, or you will ship a model nobody can afford.",
            "Pairwise comparisons are much more reliable than absolute 1-10 scores.",
            "Sample the test set from production traffic, not from your imagination.",
            "For agents, check that every cited source actually appeared in the tool results. "
            "Fabricated citations were our most common failure.",
            "Version the eval set like code. Silent edits make results incomparable.",
            "Report confidence intervals; fifty examples cannot separate two close models.",
        ),
    ),
    Theme(
        "training",
        (
            "[D] Fine-tuning {x} on a single GPU: what is realistic in 2025?",
            "[P] LoRA vs full fine-tuning for {x}: our ablation",
            "[D] Is it still worth training {x} from scratch?",
        ),
        ("a 7B model", "a domain-specific classifier", "an embedding model", "a small LLM"),
        (
            "We fine-tuned {x} with LoRA on a single 24 GB GPU. With 4-bit quantization and "
            "gradient checkpointing it fit, at about three hours per epoch on 50k examples.",
            "LoRA matched full fine-tuning within a point on our task while training a fraction "
            "of the parameters; rank mattered less than data quality.",
            "The biggest improvement came from cleaning the dataset: removing near-duplicates "
            "and fixing inconsistent labels gained more than any hyperparameter sweep.",
            "Checkpoint often. Our spot instance was preempted twice, and resuming from the "
            "last step instead of restarting saved most of a day.",
        ),
        (
            "Data quality beats hyperparameters every single time.",
            "QLoRA on a 24 GB card is very doable for 7B models.",
            "Deduplicate your training data; near-duplicates inflate your eval too.",
            "Save optimizer state with the checkpoint or resuming is not really resuming.",
            "Full fine-tuning only made sense for us when the domain was very far from "
            "pretraining.",
            "Use a held-out set from a different time period to catch leakage.",
        ),
    ),
    Theme(
        "agents",
        (
            "[D] Are LLM agents reliable enough for {x}?",
            "[D] Tool-calling agents for {x} in production: failure modes we keep seeing",
            "[R] Benchmarking ReAct agents on {x}",
        ),
        ("research tasks", "customer support", "data analysis", "code review"),
        (
            "We run tool-calling agents for {x}. The model is rarely the main problem; the "
            "surrounding system is: rate limits, timeouts, partial failures in the middle of a "
            "ten-step run, and retries that repeat expensive steps.",
            "Persisting each step and resuming from the last successful one cut our LLM spend "
            "noticeably, because a failure at step eight no longer repeats steps one to seven.",
            "Tool outputs have to be bounded. One huge web page or comment thread in the "
            "context and the next call fails with a context length error.",
            "Hallucinated citations are the failure users notice most; we now validate that "
            "every source id in the answer came from an actual tool result.",
        ),
        (
            "Checkpoint every step. Agents fail in the middle, not at the start.",
            "Cap tool output size. Context overflow is a self-inflicted outage.",
            "Validate citations against tool results; drop the fabricated ones.",
            "Most of our agent bugs were retry bugs, not model bugs.",
            "Structured output with a schema and a retry on validation errors fixed most "
            "parsing failures.",
            "Limit the number of steps. A looping agent burns money quietly.",
            "Log the whole trajectory; you cannot debug an agent from the final answer.",
        ),
    ),
    Theme(
        "papers",
        (
            "[D] Reviewing for {x} this year was rough",
            "[D] Reproducibility of {x} results: what is your experience?",
            "[N] {x} deadline discussion thread",
        ),
        ("NeurIPS", "ICML", "ICLR", "ACL"),
        (
            "I reviewed six papers for {x}. Two had no code, one had an evaluation on a test set "
            "that overlaps the training data, and only one reported variance across seeds.",
            "We tried to reproduce three recent results and got within the reported numbers for "
            "one; the others depended on unreported preprocessing details.",
            "Requiring code and seeds at submission would fix more than another round of "
            "reviewer guidelines.",
        ),
        (
            "Multiple seeds and confidence intervals should be mandatory.",
            "Data leakage is everywhere once you start checking.",
            "Code release at submission time would change a lot.",
            "The reviewer load is unsustainable; quality suffers.",
            "We now budget a week for reproduction before building on any paper.",
        ),
    ),
    Theme(
        "inference",
        (
            "[D] Serving {x} cheaply: batching, quantization or a smaller model?",
            "[D] Latency vs cost for {x} in production",
            "[P] Our inference stack for {x}",
        ),
        ("LLMs", "embedding models", "rerankers", "vision models"),
        (
            "We serve {x} to a few thousand users. Continuous batching on vLLM tripled "
            "throughput compared with our naive server at the same latency target.",
            "Quantization to 8-bit cost almost no quality; 4-bit was noticeable on reasoning "
            "tasks but fine for classification.",
            "Routing easy requests to a small model and hard ones to a large model cut cost by "
            "60 percent with no measurable quality loss on our eval set.",
        ),
        (
            "vLLM with continuous batching is the default answer now.",
            "Route by difficulty; most traffic does not need the big model.",
            "8-bit is free quality-wise in our experience.",
            "Measure time to first token separately; users feel it most.",
            "Cache embeddings aggressively, recomputation is pure waste.",
        ),
    ),
)
