"""Examples that ship with agentfleet and run in its tests."""
