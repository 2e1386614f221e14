"""The HTTP API: thin routes over the task system and the engine."""
