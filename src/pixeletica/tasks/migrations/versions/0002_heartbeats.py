"""Heartbeats of the long-running processes (workers, monitors), for health checks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_heartbeats",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.Column("info", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_heartbeats")
