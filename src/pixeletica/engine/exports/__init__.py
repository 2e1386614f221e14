"""Exports: files builders use, made from a :class:`~pixeletica.engine.blockgrid.BlockGrid`."""
