"""The task system: durable conversion tasks that go queued -> processing -> completed | failed.

The store is the single source of truth; executors only carry "please run task X".
"""
