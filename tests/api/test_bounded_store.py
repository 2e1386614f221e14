"""The API's view of the store: every call answers within its limit, and a late call still finishes."""

from __future__ import annotations

import sqlite3
import time

import pytest

from pixeletica.api.bounded_store import BoundedStore, StoreSilent, bounded
from pixeletica.tasks.model import Status
from pixeletica.tasks.store import Store

from ..tasks.conftest import fast_settings


@pytest.fixture
def sqlite_store(tmp_path):
    settings = fast_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    store = Store.open(settings.store_url)
    yield store, settings.store_url.removeprefix("sqlite:///")
    store.dispose()


def _create(store: Store, name: str):
    return store.create(settings={}, input_name=name, input_size=1, input_sha256="0" * 64, max_attempts=3, actor="test")


def test_a_call_that_cannot_finish_in_time_is_a_store_silent_and_finishes_later(sqlite_store):
    store, path = sqlite_store
    view = bounded(store, 0.3)
    assert view.count() == 0  # an answer in time is the answer
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # the database is there but answers nobody (SQLite waits 30 s for a lock)
    try:
        started = time.monotonic()
        with pytest.raises(StoreSilent, match="does not answer"):
            _create(view, "late.png")
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    deadline = time.monotonic() + 10
    while store.count() == 0 and time.monotonic() < deadline:  # the write went on in its thread
        time.sleep(0.05)
    assert [t.input_name for t in store.list(status=Status.QUEUED)] == ["late.png"]
    assert view.count() == 1


def test_what_is_not_a_method_is_the_stores_own_and_a_call_must_return_values(sqlite_store):
    store, _ = sqlite_store
    view = BoundedStore(store, 1.0)
    assert view.is_sqlite is store.is_sqlite and view.engine is store.engine
    with pytest.raises(TypeError, match="must return values"):
        view.call(lambda: iter([1, 2]))
