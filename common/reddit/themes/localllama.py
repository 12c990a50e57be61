"""Themes of r/LocalLLaMA."""

from common.reddit.themes import Theme

SUBREDDIT = "LocalLLaMA"

THEMES = (
    Theme(
        "hardware",
        (
            "Best GPU for running {x} locally on a budget?",
            "My home server build for {x}: two used 3090s",
            "Is a Mac Studio worth it for {x}?",
        ),
        ("70B models", "a local coding assistant", "a local RAG setup", "Llama and Qwen models"),
        (
            "I want to run {x} at home and the budget is around 2,000 dollars. VRAM seems to "
            "matter more than anything else, so used 3090s with 24 GB each look attractive.",
            "Two 3090s run a 70B model at 4-bit quantization with about 15 tokens per second "
            "using llama.cpp with tensor split; power draw under load is around 700 watts.",
            "Unified memory on Apple Silicon lets large models fit, but prompt processing is "
            "much slower than on NVIDIA cards, which matters for long contexts and RAG.",
            "Noise and heat were the parts I underestimated; the server now lives in the garage.",
        ),
        (
            "VRAM is king. Used 3090s are still the best value per gigabyte.",
            "Power limit the cards to 280 W; you lose very little speed.",
            "Mac is great for big models at low speed, NVIDIA for speed.",
            "Do not forget the PSU and the motherboard lanes for two cards.",
            "Prompt processing speed matters more than generation speed for RAG workloads.",
            "Undervolting saved me about 20 percent power at the same tokens per second.",
            "Check your electricity price before you build; it adds up.",
        ),
    ),
    Theme(
        "quantization",
        (
            "GGUF quant comparison for {x}: Q4_K_M vs Q5_K_M vs Q8_0",
            "How much quality do you lose quantizing {x}?",
            "EXL2 vs GGUF for {x} in 2025",
        ),
        ("Qwen 32B", "Llama 3 70B", "Mistral Small", "DeepSeek distills"),
        (
            "I ran perplexity and a small task benchmark on {x} at several quantization levels. "
            "Q5_K_M was indistinguishable from Q8_0 on my tasks, Q4_K_M lost about a point.",
            "Below 4 bits the model started to ignore instructions in long conversations and "
            "tool calling became unreliable: malformed JSON arguments in about one call in ten.",
            "Importance-matrix quants helped noticeably at low bit widths.",
        ),
        (
            "Q4_K_M is the sweet spot for most people.",
            "Tool calling degrades first when you quantize too hard.",
            "Always test on your own task; perplexity hides a lot.",
            "imatrix quants are a free improvement, use them.",
            "For coding I stay at Q6 or above.",
        ),
    ),
    Theme(
        "serving",
        (
            "Ollama vs llama.cpp server vs vLLM for {x}",
            "Running an OpenAI-compatible endpoint at home for {x}",
            "How do you handle concurrency with a local model serving {x}?",
        ),
        ("a small team", "agents", "home automation", "coding tools"),
        (
            "I serve a local model to {x} through an OpenAI-compatible API, so every tool that "
            "speaks the OpenAI protocol works by changing the base URL.",
            "Ollama is the easiest to set up, llama.cpp server gives more control, and vLLM "
            "wins on throughput once several clients hit it at the same time.",
            "Under load the server queues requests and clients time out; setting sane client "
            "timeouts and retrying with backoff made the agents much more stable.",
            "Tool calling support differs between backends and chat templates; test it before "
            "building an agent on top.",
        ),
        (
            "OpenAI-compatible endpoints make switching between local and hosted trivial.",
            "vLLM if you have concurrent users, Ollama if it is just you.",
            "Set the context size explicitly; defaults are often tiny.",
            "Chat templates break tool calling more than the model itself.",
            "Put a queue in front and your agents stop timing out.",
            "Retry on 503 with backoff; local servers return it when overloaded.",
        ),
    ),
    Theme(
        "models",
        (
            "{x} is surprisingly good for agents and tool calling",
            "Local model recommendations for {x}?",
            "Benchmarks aside, how does {x} feel in daily use?",
        ),
        ("Qwen 2.5 Coder", "Llama 3.3", "DeepSeek V3", "Mistral Small 3", "Gemma 3"),
        (
            "I have been using {x} for a week as the brain of a small research agent that "
            "searches forums and summarizes threads. It follows the tool schema reliably and "
            "rarely invents sources when the prompt asks it to cite post ids.",
            "Compared with hosted models it is slower and a bit worse at long multi-step plans, "
            "but for summarization and extraction the difference is small.",
            "The cost difference is what matters: thousands of agent runs a day at zero marginal "
            "cost, apart from electricity.",
        ),
        (
            "Qwen models have been the most reliable at tool calling for me.",
            "For agents, instruction following matters more than benchmark scores.",
            "DeepSeek is cheap enough through the API that local only makes sense for privacy.",
            "Ask the model to cite ids and then check them; it keeps it honest.",
            "Smaller models loop more. Put a step limit on your agent.",
            "Gemma is great at summaries, weaker at tools.",
        ),
    ),
    Theme(
        "rag",
        (
            "Local RAG over {x}: what stack are you using?",
            "Chunking strategies for {x} that actually worked",
            "Embedding models for {x} on a laptop",
        ),
        ("personal notes", "company docs", "PDF manuals", "Reddit threads"),
        (
            "I built a local RAG setup over {x}: a small embedding model, SQLite with a vector "
            "extension, and a 14B model for answers. Everything runs on a laptop.",
            "Chunking by document structure (headings, paragraphs) beat fixed-size chunks by a "
            "wide margin on my questions.",
            "Reranking the top 20 retrieved chunks with a cross-encoder was the single biggest "
            "quality improvement.",
        ),
        (
            "Reranker first, fancy chunking second.",
            "SQLite plus a vector extension is all most personal setups need.",
            "Keep the source links in the chunk metadata so the model can cite them.",
            "Hybrid search with BM25 plus embeddings beats either alone.",
            "Evaluate retrieval separately from generation or you will tune the wrong thing.",
        ),
    ),
)
