"""Processing tasks by start time: the stuck sweep (and ``task find-stuck``) reads the oldest first from an
index instead of sorting every processing task.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_status_started", "tasks", ["status", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_status_started", "tasks")
