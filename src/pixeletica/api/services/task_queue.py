"""The Celery app at the path the operations guide uses:
``celery -A pixeletica.api.services.task_queue.celery_app inspect active``.

Configured from the environment (``PIXELETICA_BROKER_URL`` or ``REDIS_URL``); the app itself
lives in :mod:`pixeletica.tasks.executors.celery`.
"""

from __future__ import annotations

from pixeletica.config import get_settings
from pixeletica.tasks.executors import celery as _celery

celery_app = _celery.make_app(get_settings())
