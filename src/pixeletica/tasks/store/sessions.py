"""Signed-in dashboard sessions, kept by the digest of their cookie."""

from __future__ import annotations

import sqlalchemy as sa

from pixeletica.tasks.schema import admin_sessions
from pixeletica.tasks.store.database import Database


class Sessions(Database):
    """Dashboard sign-ins: each valid until it expires, is signed out, or the admin token changes."""

    def open_session(self, session_id: str, token_digest: str, seconds: float) -> None:
        """Record a signed-in dashboard session (by its digest) for ``seconds``; drop expired ones."""
        now = self._now()
        with self._write() as connection:
            connection.execute(admin_sessions.delete().where(admin_sessions.c.expires_at <= now))
            connection.execute(
                admin_sessions.insert().values(
                    id=session_id, token_digest=token_digest, created_at=now,
                    expires_at=self._now(seconds),
                )
            )  # fmt: skip

    def session_valid(self, session_id: str, token_digest: str) -> bool:
        """Whether this session exists, has not expired, and was signed in with the current admin token."""
        query = sa.select(admin_sessions.c.id).where(
            admin_sessions.c.id == session_id,
            admin_sessions.c.token_digest == token_digest,
            admin_sessions.c.expires_at > self._now(),
        )
        with self._read() as connection:
            return connection.execute(query).first() is not None

    def close_session(self, session_id: str) -> None:
        """Sign a session out: it is valid no more."""
        with self._write() as connection:
            connection.execute(admin_sessions.delete().where(admin_sessions.c.id == session_id))
