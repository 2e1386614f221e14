"""The conversion engine: pure functions from images and settings to block grids and bytes.

The engine knows nothing of tasks, HTTP or settings files; callers pass everything in.
"""
