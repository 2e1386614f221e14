"""The ``pixeletica`` command line: thin commands over the engine and the task system."""
