"""Pixeletica's scale-out topology (Redis, PostgreSQL, API, Celery workers, monitor) as local processes."""
