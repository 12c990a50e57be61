"""`word_stats`: a tiny LangGraph agent registered as an agentfleet plugin."""
