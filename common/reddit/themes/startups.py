"""Themes of r/startups."""

from common.reddit.themes import Theme

SUBREDDIT = "startups"

THEMES = (
    Theme(
        "aicosts",
        (
            "Our LLM API bill hit {x} a month. How are you controlling AI costs?",
            "{x} a month on OpenAI and DeepSeek: how do you handle rate limits and outages?",
            "Unit economics of an AI feature at {x} a month in API spend",
        ),
        ("$8k", "$20k", "$35k", "five figures"),
        (
            "We shipped an AI research feature and the LLM bill grew faster than revenue. Most "
            "of the spend turned out to be retries: timeouts and 429s made the whole multi-step "
            "job start over.",
            "After persisting intermediate steps and retrying only the failed step, cost per "
            "completed job dropped by about a third.",
            "We now route simple requests to a cheaper model and keep the expensive one for the "
            "hard cases; customers did not notice the difference.",
            "Every provider has outages. A queue with retries and backoff in front of the API "
            "turned outages into delays instead of failed jobs for customers.",
        ),
        (
            "Track cost per successful job, not per API call. Retries hide in the average.",
            "Cheaper models plus validation beat expensive models for most of our tasks.",
            "Build the queue early. Provider outages will happen during your demo.",
            "Show users progress during long jobs; it reduced support tickets a lot.",
            "Cache aggressively; a surprising share of requests repeat.",
            "Have a second provider ready behind the same interface.",
            "Price your plans with the worst-case token usage in mind.",
        ),
    ),
    Theme(
        "validation",
        (
            "How did you validate {x} before building it?",
            "Spent six months building {x}. Nobody wants it. What now?",
            "Using Reddit to research {x}: does it work?",
        ),
        ("a B2B SaaS idea", "a developer tool", "an AI product", "a marketplace"),
        (
            "Before writing code for {x} I spent two weeks reading community threads, collecting "
            "complaints and workarounds people described, and then interviewed fifteen of them.",
            "The strongest signal was not people saying they liked the idea but people describing "
            "spreadsheets and scripts they built to work around the problem.",
            "Landing page tests gave misleading results; conversations and pre-sales told us "
            "much more about willingness to pay.",
        ),
        (
            "Look for workarounds. People who built a spreadsheet have a real problem.",
            "Reddit threads are a goldmine of pain points if you read the comments.",
            "Pre-sales are the only validation that counts.",
            "Talk to users before code, and again after every release.",
            "Landing page signups mean curiosity, not demand.",
            "Ask about the last time they had the problem, not hypotheticals.",
        ),
    ),
    Theme(
        "fundraising",
        (
            "Raising a {x} in this market: our numbers and timeline",
            "What investors asked us during our {x}",
            "A {x} for an AI startup: what changed this year",
        ),
        ("pre-seed round", "seed round", "Series A", "bridge round"),
        (
            "We closed a {x} after talking to about sixty investors over four months. Traction "
            "mattered more than the deck: paying customers and retention curves.",
            "For AI products, gross margin came up in almost every meeting; inference cost per "
            "customer had to be explained in detail.",
            "Warm introductions converted roughly five times better than cold outreach.",
        ),
        (
            "Retention curves are the first thing serious investors ask for.",
            "Know your inference cost per customer by heart.",
            "Warm intros or nothing, in my experience.",
            "Run the process in a tight window; momentum matters.",
            "Being default alive changes the whole conversation.",
        ),
    ),
    Theme(
        "hiring",
        (
            "First engineering hire as {x}: generalist or specialist?",
            "How do you hire engineers as {x}?",
            "Contractors vs full-time as {x}?",
        ),
        ("an AI startup", "a non-technical founder", "a two-person team", "a bootstrapped company"),
        (
            "As {x}, we needed someone who can ship across the stack and also own reliability "
            "once customers depend on the product.",
            "A paid one-week trial project told us more than any interview loop.",
            "We underestimated how much time hiring takes: roughly a third of the founders' time "
            "for two months.",
        ),
        (
            "Generalists first, specialists when a specific problem dominates.",
            "Paid trial projects are fair to both sides.",
            "Hire for ownership; early engineers must finish things without supervision.",
            "Contractors are fine for prototypes, not for the core.",
            "Equity matters less than people think; the mission and the team matter more.",
        ),
    ),
    Theme(
        "growth",
        (
            "How we got our first 100 customers for {x}",
            "Content marketing for {x}: what worked",
            "Community-led growth for {x}: is Reddit a channel?",
        ),
        ("a developer tool", "a SaaS", "an AI app", "a niche B2B product"),
        (
            "The first 100 customers of {x} came from answering questions in communities where "
            "our users already were, not from ads.",
            "Posts that taught something useful with the product mentioned at the end performed "
            "far better than announcements.",
            "Reddit communities punish self-promotion quickly; contribute for months before "
            "mentioning what you build.",
        ),
        (
            "Be useful in the community first. Promotion second, if ever.",
            "Founder-led sales for the first 100, no exceptions.",
            "Write about the problem, not the product.",
            "SEO takes a year; plan for it early.",
            "Cold email still works if it is short and specific.",
        ),
    ),
)
