"""Task owners and public maps; dashboard sessions kept by the server.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("owner", sa.String(64)))
        batch.add_column(sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_tasks_owner_created", "tasks", ["owner", "created_at"])
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("admin_sessions")
    op.drop_index("ix_tasks_owner_created", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("public")
        batch.drop_column("owner")
