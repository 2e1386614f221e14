"""The store: compare-and-set status changes with events, claiming order, migrations, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from pixeletica.errors import InvalidInput, NotFound, TransitionConflict
from pixeletica.tasks.model import Priority, Status, utcnow
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store import Store


def make(store: Store, name: str = "a.png", priority: Priority = Priority.NORMAL):
    return store.create(
        settings={"width": 8}, input_name=name, input_size=1, input_sha256="0" * 64, priority=priority, max_attempts=3
    )


def test_create_read_list_and_count(store):
    first = make(store, "first.png")
    second = make(store, "second.png")
    assert first.status == Status.QUEUED and first.attempt == 0 and first.progress == 0
    assert store.get(first.id) == first
    assert [t.id for t in store.list()] == [second.id, first.id]  # newest first
    assert [t.id for t in store.list(search="first")] == [first.id]
    assert store.resolve(first.id[:8]).id == first.id
    assert store.counts()[Status.QUEUED] == 2 and store.count(Status.QUEUED) == 2
    [event] = store.events(first.id)
    assert (event.from_status, event.to_status, event.actor) == (None, "queued", "api")


def test_search_matches_what_is_written_whatever_its_case_not_wildcards(store):
    percent = make(store, "100%_Done.png")
    make(store, "plain.png")
    assert [t.id for t in store.list(search="%")] == [percent.id]
    assert [t.id for t in store.list(search="_d")] == [percent.id]
    assert [t.id for t in store.list(search="100%_done")] == [percent.id]
    assert store.list(search="\x00") == store.list()  # nothing left to look for: every task
    assert store.count_matching(search="%") == 1


def test_a_task_completed_by_hand_no_longer_shows_its_error(store):
    from pixeletica.tasks import operations

    task = operations.cancel(store, make(store), actor="test")
    assert task.error == "cancelled"
    done = operations.update_status(store, task, Status.COMPLETED, actor="test", lease_seconds=15)
    assert (done.status, done.error, done.error_code) == (Status.COMPLETED, None, None)


def test_a_cancel_of_a_task_claimed_since_it_was_read_cancels_it_as_it_is_now(store):
    from pixeletica.tasks import operations

    read = make(store)
    store.claim("w", 30, task_id=read.id)  # a worker took it after the operator looked
    cancelled = operations.cancel(store, read, actor="test")
    assert (cancelled.status, cancelled.error, cancelled.attempt) == (Status.FAILED, "cancelled", 1)


def test_unknown_and_ambiguous_ids(store):
    for suffix in ("1111", "2222"):
        store.create(
            task_id=f"aaaa{suffix}-0000-4000-8000-000000000000", settings={}, input_name="x.png", input_size=1,
            input_sha256="0" * 64, max_attempts=3,
        )  # fmt: skip
    with pytest.raises(NotFound):
        store.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        store.get("aaaa1111\x00")
    with pytest.raises(NotFound, match="not a task id"):
        store.resolve("zz")
    with pytest.raises(InvalidInput, match="ambiguous"):
        store.resolve("aaaa")
    assert store.resolve("aaaa2").id.startswith("aaaa2222")


def test_every_status_change_is_compare_and_set_with_an_event(store):
    task = make(store)
    claimed = store.claim("w1", 30)
    assert claimed.status == Status.PROCESSING and claimed.attempt == 1 and claimed.worker_id == "w1"
    with pytest.raises(TransitionConflict):  # the copy read before the claim is stale
        store.transition(task, Status.FAILED, actor="cli", message="x")
    with pytest.raises(TransitionConflict, match="is already processing"):
        store.transition(claimed, Status.PROCESSING, actor="cli", message="x")
    done = store.transition(claimed, Status.COMPLETED, actor="worker:w1", message="done")
    assert done.status == Status.COMPLETED and done.progress == 100 and done.finished_at is not None
    with pytest.raises(TransitionConflict, match="cannot go from completed to failed"):
        store.transition(done, Status.FAILED, actor="cli", message="x")
    overridden = store.transition(done, Status.FAILED, actor="cli", message="by hand", manual=True)
    assert overridden.status == Status.FAILED
    history = [(e.from_status, e.to_status, e.actor) for e in store.events(task.id)]
    assert history == [
        (None, "queued", "api"),
        ("queued", "processing", "worker:w1"),
        ("processing", "completed", "worker:w1"),
        ("completed", "failed", "cli"),
    ]


def test_claim_takes_higher_priority_first_then_oldest(store):
    low = make(store, "low", Priority.LOW)
    old = make(store, "old")
    high = make(store, "high", Priority.HIGH)
    new = make(store, "new")
    order = [store.claim("w", 30).id for _ in range(4)]
    assert order == [high.id, old.id, new.id, low.id]
    assert store.claim("w", 30) is None


def test_claim_respects_retry_delay_and_specific_ids(store):
    task = make(store)
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).values(not_before=utcnow() + dt.timedelta(hours=1)))
    assert store.claim("w", 30) is None
    assert store.claim("w", 30, task_id=task.id) is None
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).values(not_before=None))
    other = make(store)
    assert store.claim("w", 30, task_id=task.id).id == task.id
    assert store.claim("w", 30, task_id=task.id) is None  # a second delivery finds it taken
    assert store.claim("w", 30).id == other.id


def test_heartbeat_and_progress_only_for_the_current_attempt(store):
    make(store)
    claimed = store.claim("w", 30)
    assert store.heartbeat(claimed, 60) and store.set_progress(claimed, 40, "dithering")
    assert store.get(claimed.id).progress == 40 and store.get(claimed.id).step == "dithering"
    requeued = store.transition(claimed, Status.QUEUED, actor="monitor", message="lost")
    assert not store.heartbeat(claimed, 60) and not store.set_progress(claimed, 50, "x")
    assert requeued.worker_id is None and requeued.lease_expires_at is None


_CLAIMER = """
import sys, json
from pixeletica.tasks.store import Store
store = Store(sys.argv[1])
got = []
while (task := store.claim(sys.argv[2], 30)) is not None:
    got.append(task.id)
print(json.dumps(got))
"""


@pytest.mark.slow
def test_concurrent_workers_never_claim_the_same_task(store, settings):
    created = {make(store, f"t{i}").id for i in range(60)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, settings.store_url, f"w{i}"], stdout=subprocess.PIPE, text=True
        )
        for i in range(3)
    ]
    claimed = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    flat = [t for batch in claimed for t in batch]
    assert sorted(flat) == sorted(created)  # every task once, none twice
    assert len(set(flat)) == len(flat)


_MIGRATOR = (
    "import sys; from pixeletica.tasks.store import Store; s = Store(sys.argv[1]); s.upgrade(); print(s.revision())"
)


@pytest.mark.slow
def test_migrations_run_once_even_when_processes_start_together(tmp_path, database_url):
    url = database_url or f"sqlite:///{tmp_path / 'fresh.db'}"
    procs = [
        subprocess.Popen([sys.executable, "-c", _MIGRATOR, url], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs == ["0005"] * 4


def test_head_revision_constant_matches_the_migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pixeletica.tasks.migrations import HEAD_REVISION
    from pixeletica.tasks.store import database as store_module

    cfg = Config()
    cfg.set_main_option("script_location", str(store_module._MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_the_migrations_make_exactly_the_tables_the_code_uses(store):
    # The first migration is a frozen copy of the tables as they were (history must not move when
    # schema.py does); this keeps the chain of migrations and schema.py saying the same thing.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pixeletica.tasks import schema

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    assert [d for d in differences if not _only_alembic_version(d)] == []


def _only_alembic_version(difference: object) -> bool:
    return isinstance(difference, tuple) and difference[0] == "remove_table" and difference[1].name == "alembic_version"


def test_a_file_that_is_not_a_database_is_one_sentence_and_left_as_it_was(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(InvalidInput, match=r"^cannot use the task database at sqlite:///.*: file is not a database$"):
        Store.open(f"sqlite:///{path}")
    assert path.read_bytes() == b"these are my notes, not a database\n" * 100
