"""The task store's schema migrations (Alembic), newest last in ``versions/``."""

#: The newest migration in ``versions/`` (a test checks they agree); a store at another revision is migrated
#: by :meth:`pixeletica.tasks.store.Store.upgrade` before anything reads it.
HEAD_REVISION = "0005"
