"""The task store's tables (SQLAlchemy Core). Migrations in ``migrations/`` create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    sa.Column("step", sa.String(64)),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("input_name", sa.String(255), nullable=False),
    sa.Column("input_size", sa.BigInteger, nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("worker_id", sa.String(255)),
    sa.Column("lease_expires_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("queued_at", sa.DateTime),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("not_before", sa.DateTime),
    sa.Column("error", sa.Text),
    sa.Column("error_code", sa.String(64)),
    sa.Column("traceback", sa.Text),
    sa.Column("result", sa.Text),
    sa.Column("dispatched_at", sa.DateTime),  # outbox: NULL = the broker has not been told yet
    sa.Column("owner", sa.String(64)),  # SHA-256 of the owner key that submitted it (None: no owner)
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),  # listed and readable by all
    sa.Index("ix_tasks_claim", "status", "priority", "queued_at"),
    sa.Index("ix_tasks_status_created", "status", "created_at"),
    sa.Index("ix_tasks_created", "created_at"),
    sa.Index("ix_tasks_status_lease", "status", "lease_expires_at"),
    sa.Index("ix_tasks_status_started", "status", "started_at"),
    sa.Index("ix_tasks_dispatch", "status", "dispatched_at"),
    sa.Index("ix_tasks_owner_created", "owner", "created_at"),
)

events = sa.Table(
    "task_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(36), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_task_events_task", "task_id", "id"),
)

artifacts = sa.Table(
    "task_artifacts",
    metadata,
    sa.Column("task_id", sa.String(36), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("file_id", sa.String(255), primary_key=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("media_type", sa.String(128), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
)

heartbeats = sa.Table(
    "service_heartbeats",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("info", sa.Text, nullable=False),
)

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of the session cookie, never the cookie
    sa.Column("token_digest", sa.String(64), nullable=False),  # of the admin token it was signed in with
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)
