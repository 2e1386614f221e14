"""Executors: what carries "please run task X" to a worker. The store stays the truth."""
