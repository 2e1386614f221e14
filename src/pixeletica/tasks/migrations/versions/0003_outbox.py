"""Dispatch outbox: when a queued task's message was last handed to the broker.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime))
    op.create_index("ix_tasks_dispatch", "tasks", ["status", "dispatched_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_dispatch", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("dispatched_at")
