"""The task store: every read and write of tasks, events, artifacts, heartbeats and sessions, behind
one class, :class:`Store`.

Its parts, one module each: :mod:`.database` (engine, SQLite tuning, migrations, transactions, the
database's clock), :mod:`.reads` (tasks, events and files; lists and counts; what sweeps look for),
:mod:`.status` (the one function that changes a task's status, :func:`~.status.change`, and the
operations built on it), :mod:`.leases` (a running attempt's lease and progress), :mod:`.outbox`
(what a broker still has to be told), :mod:`.heartbeats` (processes alive) and :mod:`.sessions`
(dashboard sign-ins).
"""

from __future__ import annotations

from pixeletica.tasks.migrations import HEAD_REVISION
from pixeletica.tasks.model import NewArtifact
from pixeletica.tasks.store.database import BACKGROUND_TIMEOUT
from pixeletica.tasks.store.heartbeats import Heartbeats
from pixeletica.tasks.store.leases import Leases
from pixeletica.tasks.store.outbox import Outbox
from pixeletica.tasks.store.reads import TaskReads
from pixeletica.tasks.store.sessions import Sessions
from pixeletica.tasks.store.status import StatusChanges

__all__ = ["BACKGROUND_TIMEOUT", "HEAD_REVISION", "NewArtifact", "Store"]


class Store(TaskReads, StatusChanges, Leases, Outbox, Heartbeats, Sessions):
    """All access to the task tables. Thread-safe; one per process is enough.

    ``Store(url)`` connects; :meth:`Store.open` also brings the schema up to date.
    """
