"""agentfleet's benchmark harness: `python -m bench` runs every benchmark and writes BENCHMARKS.md.

Adding a benchmark: one module with `NAME`, `TITLE` and `run(args: BenchArgs) -> Result`, listed
in `bench.registry.BENCHMARKS`; its section of BENCHMARKS.md is generated from the `Result`.
"""
