"""The ``pixeletica`` command line: thin commands over the engine (and, later, the task system)."""
