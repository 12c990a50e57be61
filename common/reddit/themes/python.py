"""Themes of r/Python."""

from common.reddit.themes import Theme

SUBREDDIT = "Python"

THEMES = (
    Theme(
        "packaging",
        (
            "Switched our monorepo from pip-tools to {x}: notes after three months",
            "Is {x} finally the answer to Python packaging and dependency management?",
            "{x} lockfiles in CI: how do you keep builds reproducible?",
        ),
        ("uv", "Poetry", "PDM", "Hatch"),
        (
            "We have about forty services in one repo and dependency resolution was taking longer "
            "than the test suite. After moving to {x}, cold installs in CI went from 4 minutes to "
            "under 40 seconds, mostly thanks to the global cache and a proper lockfile.",
            "The pain points so far: editable installs of internal packages, private index "
            "authentication in CI, and people who still run plain pip install in their venv and "
            "then wonder why the lockfile drifts.",
            "What finally convinced the team was reproducibility: the same lockfile resolves to "
            "the same wheels on macOS laptops and Linux runners, and Dependabot understands it.",
            "I am curious how others handle Python version management together with {x}. Do you "
            "let the tool install interpreters or keep pyenv around?",
        ),
        (
            "We did the same migration. Pin the tool version itself in CI, otherwise a new "
            "release changes the lockfile format under you.",
            "Cold install time is the wrong metric. Measure cache hit rate in CI; that is where "
            "the real savings are.",
            "Private index auth was our biggest issue too. An environment variable per index in "
            "the runner solved it, no netrc files.",
            "Keep a single source of truth for dependencies: pyproject.toml plus the lockfile. "
            "Delete every requirements.txt or someone will edit the wrong one.",
            "Honestly the speed difference matters less than the fact that resolution errors "
            "are now readable.",
            "For libraries, do not commit a lockfile for consumers; test against the lowest "
            "supported versions in one CI job.",
            "We kept pyenv for a while and it just caused confusion. Let one tool own "
            "interpreters.",
        ),
    ),
    Theme(
        "asyncio",
        (
            "asyncio in production: the mistakes that cost us an outage in {x}",
            "How do you limit concurrency with asyncio in {x} calling a rate-limited API?",
            "TaskGroup vs gather for {x}: what changed our error handling",
        ),
        ("HTTP fan-out", "background workers", "websocket servers", "LLM API calls", "scrapers"),
        (
            "We run {x} on asyncio and hit a nasty failure: one slow upstream filled the event "
            "loop with pending tasks until memory ran out, and nothing timed out because we "
            "never set timeouts on the client.",
            "The fix was boring: a semaphore around every outbound call, explicit timeouts, and "
            "retries with exponential backoff and jitter instead of immediate retries.",
            "Blocking calls hidden in libraries were the other problem. A sync database driver "
            "inside a coroutine stalls every request in the process.",
            "Structured concurrency with TaskGroup made cancellation predictable: when one task "
            "fails, the siblings are cancelled and the exception group tells you what happened.",
        ),
        (
            "Respect Retry-After headers. Backoff that ignores the server's hint just gets you "
            "rate limited again.",
            "asyncio.timeout() everywhere. A call without a deadline is a leak waiting to happen.",
            "Turn on debug mode in staging; it logs slow callbacks, which is how we found a "
            "blocking JSON parse of a 30 MB payload.",
            "Semaphores limit concurrency but not rate. For requests per second you want a "
            "token bucket.",
            "Never retry inside the request handler for long. Put the work on a queue and let a "
            "worker retry later.",
            "TaskGroup plus except* is the first time error handling in asyncio felt sane.",
            "Make sure shutdown cancels and awaits tasks, otherwise you lose work on deploys.",
        ),
    ),
    Theme(
        "typing",
        (
            "Is strict {x} worth it on a 200k line codebase?",
            "Adding type hints to a legacy Django app with {x}: a practical path",
            "Pydantic v2 and {x} together: what works and what still hurts",
        ),
        ("mypy", "pyright", "type checking", "basedpyright"),
        (
            "We turned on {x} per module, starting with the code that changes most, and made "
            "the CI check blocking only for files that already pass.",
            "The biggest wins were not exotic generics but Optional handling: about a third of "
            "the errors found were real None bugs that had been in production for years.",
            "Untyped third-party libraries were the main source of noise; stubs and a few "
            "narrow Protocols helped more than ignoring whole packages.",
            "Runtime validation at the edges with pydantic and static checks inside the core "
            "turned out to be a good split of responsibilities.",
        ),
        (
            "Start with --strict on new modules only. Boiling the ocean kills the initiative.",
            "The None bugs alone justified the effort for us.",
            "Protocols over ABCs for anything you want to fake in tests.",
            "Do not let the ignore comments pile up; track their count as a metric.",
            "Type hints are documentation that CI checks. That was the argument that won "
            "over the skeptics.",
            "We found pyright much faster in the editor and kept mypy in CI. Different "
            "results occasionally, but rarely.",
        ),
    ),
    Theme(
        "testing",
        (
            "How do you test code that calls {x} without hitting the network?",
            "Our pytest suite for {x} integrations went from 25 minutes to 4",
            "Flaky tests caused by {x}: how we finally got rid of them",
        ),
        ("external APIs", "LLM providers", "the database", "cloud services", "a message queue"),
        (
            "Most of our flaky tests came down to {x}. Tests that sleep for timing pass on a "
            "laptop and fail on a loaded CI runner.",
            "We inject a clock and a random source everywhere now. Tests advance the clock "
            "instead of sleeping, and the suite is both faster and deterministic.",
            "For external services we record real responses once and replay them, plus a "
            "small fake server for failure modes like 429 and timeouts that are hard to record.",
            "pytest-xdist helped, but only after removing shared state between tests; "
            "parallelism exposes every test that depends on another's leftovers.",
        ),
        (
            "Inject the clock. It is the single best testing decision we made.",
            "A fake server for error cases is worth it: you cannot make the real provider return "
            "503 on demand.",
            "Replay cassettes rot. Re-record them on a schedule or they test an API that no "
            "longer exists.",
            "Ban time.sleep in tests with a lint rule and watch the flakiness disappear.",
            "Seed every random generator and print the seed on failure.",
            "Contract tests against the real service in a nightly job keep the fakes honest.",
            "xdist exposed so many order-dependent tests. Painful week, better suite.",
        ),
    ),
    Theme(
        "performance",
        (
            "Profiling a slow {x} in Python: from 12 seconds to 300 ms",
            "When is rewriting the hot path of a {x} in Rust worth it?",
            "Python 3.13 free-threading: early results on {x}",
        ),
        ("data pipeline", "API endpoint", "CLI tool", "pandas job"),
        (
            "Our {x} was slow and everyone assumed Python was the problem. A profiler showed 80 "
            "percent of the time in one N+1 query pattern and a regex compiled in a loop.",
            "py-spy on production and pyinstrument locally gave the clearest picture; cProfile "
            "output was too noisy to act on.",
            "We did move one parsing step to a Rust extension with PyO3 and got a 20x speedup "
            "there, but the overall win was small compared with fixing the queries.",
            "Measure first. Every optimization we did without a profile either did nothing or "
            "made the code harder to read.",
        ),
        (
            "It is always the database. Always.",
            "py-spy dump on a stuck process has saved me more than once.",
            "Rust for hot loops is great, but the build and packaging overhead is real.",
            "Polars instead of pandas gave us the biggest single improvement.",
            "Cache compiled regexes and avoid repeated attribute lookups in tight loops; "
            "small things add up.",
            "Profile in production-like conditions. Local data sets hide the real costs.",
        ),
    ),
)
