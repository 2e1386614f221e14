"""The API's view of the store: every call answers within its limit, and a late call still finishes."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator

import pytest

from pixeletica.api.bounded_store import BoundedStore, StoreSilent
from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import Status
from pixeletica.tasks.store import Store

from ..tasks.conftest import SAMPLES, fast_settings


@pytest.fixture
def sqlite_store(tmp_path):
    settings = fast_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    store = Store.open(settings.store_url)
    yield store, settings.store_url.removeprefix("sqlite:///")
    store.dispose()


@contextlib.contextmanager
def silent(path: str) -> Iterator[None]:
    """The database there but answering nobody: an exclusive lock held (SQLite waits 30 s for it)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _create(store: Store, name: str):
    return store.create(settings={}, input_name=name, input_size=1, input_sha256="0" * 64, max_attempts=3, actor="test")


def test_a_call_that_cannot_finish_in_time_is_a_store_silent_and_finishes_later(sqlite_store):
    store, path = sqlite_store
    view = BoundedStore(store, 0.3).as_store()
    assert view.count() == 0  # an answer in time is the answer
    with silent(path):
        started = time.monotonic()
        with pytest.raises(StoreSilent, match="does not answer"):
            _create(view, "late.png")
        assert time.monotonic() - started < 5
    _until(lambda: store.count() == 1)  # the write went on in its thread
    assert [t.input_name for t in store.list(status=Status.QUEUED)] == ["late.png"]
    assert view.count() == 1


def test_a_submission_answered_503_that_goes_on_keeps_its_input(sqlite_store, tmp_path):
    """Bounded as a whole, a submission ends as it would have: the task stored with its input file."""
    store, path = sqlite_store
    calls = BoundedStore(store, 0.3)
    tasks_dir = tmp_path / "data" / "tasks"
    data = (SAMPLES / "coffee.jpg").read_bytes()
    with silent(path), pytest.raises(StoreSilent):
        calls.run(
            operations.submit,
            tasks_dir,
            data=data,
            filename="c.jpg",
            settings=ConversionSettings.from_dict({"width": 8}),
            max_attempts=3,
        )
    _until(lambda: store.count() == 1)
    task = store.list()[0]
    assert files.input_path(tasks_dir, task.id, task.input_name).read_bytes() == data


def test_a_deletion_answered_503_that_goes_on_leaves_no_files(sqlite_store, tmp_path):
    """Bounded as a whole, a deletion that goes on removes the files with the record (or keeps both)."""
    store, path = sqlite_store
    calls = BoundedStore(store, 0.3)
    tasks_dir = tmp_path / "data" / "tasks"
    data = (SAMPLES / "coffee.jpg").read_bytes()
    task = operations.submit(
        store,
        tasks_dir,
        data=data,
        filename="c.jpg",
        settings=ConversionSettings.from_dict({"width": 8}),
        max_attempts=3,
    )
    assert (tasks_dir / task.id).is_dir()
    with silent(path), pytest.raises(StoreSilent):
        calls.run(operations.delete, tasks_dir, task)
    _until(lambda: store.count() == 0 and not (tasks_dir / task.id).exists())
    assert store.count() == 0
    assert not (tasks_dir / task.id).exists()


def test_what_is_not_a_method_is_the_stores_own_and_a_call_must_return_values(sqlite_store):
    store, _ = sqlite_store
    view = BoundedStore(store, 1.0)
    assert view.is_sqlite is store.is_sqlite and view.engine is store.engine
    with pytest.raises(TypeError, match="must return values"):
        view.call(lambda: iter([1, 2]))
