"""A model-based test of the task system: random sequences of everything that can happen to tasks.

Hypothesis drives the real store (SQLite and PostgreSQL) through submissions, claims, heartbeats,
progress, completions, transient and permanent failures, dying workers, time passing (the store's
clock moved, no sleeps), the monitor's lease sweep — with live workers' heartbeats landing between
its read and its changes, or not —, its stuck sweep and retention, and an operator's manual updates
to every status, retries, cancels and deletes. After every step it checks the promises:

- every ``processing`` task can be found by a sweep (it has a start time and a lease);
- a worker whose lease has not run out never loses its task to the monitor;
- a task is completed only by the attempt that holds it, with only that attempt's files;
- the history of every task replays to its status; its attempt never goes down.

``PIXELETICA_MODEL_EXAMPLES`` sets how many sequences to try (a longer run: ``scripts/model_check.sh``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
import time
from pathlib import Path

import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pixeletica.errors import InvalidInput, TransitionConflict
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import Status, Task
from pixeletica.tasks.monitor import Monitor
from pixeletica.tasks.schema import artifacts, events, tasks
from pixeletica.tasks.sqlite_reads import SqliteReads
from pixeletica.tasks.store import NewArtifact, Store

pytestmark = pytest.mark.slow

LEASE = 10.0
MAX_PROCESSING = 100.0
#: How much earlier than the model thinks a lease may end: the store stamps it just before the model does.
SLACK = 0.5
EXAMPLES = int(os.environ.get("PIXELETICA_MODEL_EXAMPLES", "120"))


def machine_for(store: Store) -> type[RuleBasedStateMachine]:
    def _clock() -> float:
        """The store's clock in seconds: real time (which passes while a sequence runs) plus its offset."""
        return time.time() + store.time_offset

    class TaskSystem(RuleBasedStateMachine):
        """The model: which worker holds which attempt, and until when (by the store's clock, :func:`_clock`)."""

        @initialize()
        def fresh(self) -> None:
            with store.engine.begin() as connection:
                for table in (events, artifacts, tasks):
                    connection.execute(table.delete())
            store.time_offset = 0.0
            self.tasks_dir = Path(tempfile.mkdtemp(prefix="pixeletica-model-"))
            self.monitor = Monitor(
                store=store, tasks_dir=self.tasks_dir, max_processing_time=MAX_PROCESSING,
                retention_days=300 / 86400, failed_retention_days=600 / 86400,
                lease_sweep_seconds=1.0, interval=MAX_PROCESSING,  # (its sweeps are called here, never timed)
            )  # fmt: skip
            self.ids: list[str] = []
            self.held: dict[str, tuple[Task, float]] = {}  # worker -> (its claimed task, lease until)
            self.attempts: dict[str, int] = {}
            self.workers = 0
            self.plain = SqliteReads.open(store.url) if store.is_sqlite else None  # the task tool's reader

        def teardown(self) -> None:
            shutil.rmtree(self.tasks_dir, ignore_errors=True)
            if self.plain is not None:
                self.plain.close()

        # --- what users, workers and the clock do ----------------------------------------------

        @rule(priority=st.sampled_from([0, 1, 2]), attempts=st.integers(1, 3))
        def submit(self, priority: int, attempts: int) -> None:
            task = store.create(
                settings={}, input_name="in.png", input_size=1, input_sha256="0" * 64, priority=priority,
                max_attempts=attempts, actor="test",
            )  # fmt: skip
            self.ids.append(task.id)

        @rule()
        def claim(self) -> None:
            self.workers += 1
            worker = f"w{self.workers}"
            task = store.claim(worker, LEASE)
            if task is not None:
                self.held[worker] = (task, _clock() + LEASE)

        @precondition(lambda self: self.held)
        @rule(data=st.data(), action=st.sampled_from(["heartbeat", "progress", "complete", "transient", "fail", "die"]))
        def worker_acts(self, data: st.DataObject, action: str) -> None:
            """A worker that holds a task renews its lease, reports progress, finishes, fails or dies."""
            worker = data.draw(st.sampled_from(sorted(self.held)))
            task, _ = self.held[worker]
            if action == "heartbeat":
                if store.heartbeat(task, LEASE):
                    self.held[worker] = (task, _clock() + LEASE)
                else:
                    del self.held[worker]  # it lost the task: a worker stops at once
            elif action == "progress":
                if not store.set_progress(task, 50, "working"):
                    del self.held[worker]
            elif action == "complete":
                del self.held[worker]
                self._complete(worker, task)
            elif action in ("transient", "fail"):
                del self.held[worker]
                with contextlib.suppress(TransitionConflict):
                    if action == "transient" and task.attempt < task.max_attempts:
                        store.transition(task, Status.QUEUED, actor=worker, message="transient", retry_in=3.0)
                    else:
                        store.transition(task, Status.FAILED, actor=worker, message="failed", error="failed")
            else:
                del self.held[worker]

        def _complete(self, worker: str, task: Task) -> None:
            folder = f"{task.id}/attempt-{task.attempt}"
            made = [NewArtifact(file_id="out", category="dithered", filename="out.png", media_type="image/png",
                                size=1, sha256="0" * 64, path=f"{folder}/out.png")]  # fmt: skip
            try:
                done = store.complete(task, made, {"width": 1}, f"worker:{worker}")
            except TransitionConflict:
                return  # not its task any more: nothing recorded
            assert done.attempt == task.attempt and done.status == Status.COMPLETED

        @rule(seconds=st.sampled_from([1.0, 4.0, 12.0, 60.0, 150.0, 700.0]))
        def time_passes(self, seconds: float) -> None:
            store.time_offset += seconds

        # --- the monitor --------------------------------------------------------------------------

        @rule(workers_beat_meanwhile=st.booleans())
        def lease_sweep(self, workers_beat_meanwhile: bool) -> None:
            """The monitor reads the expired leases, then (live workers beating meanwhile, maybe) applies them."""
            found = store.lease_expired()
            if workers_beat_meanwhile:
                for worker, (task, _) in list(self.held.items()):
                    if store.heartbeat(task, LEASE):
                        self.held[worker] = (task, _clock() + LEASE)
            for task in found:
                if self.monitor.recover(task) is None:
                    continue
                for worker, (held, until) in list(self.held.items()):
                    if held.id == task.id and held.attempt == task.attempt:
                        left = until - _clock()
                        assert left <= SLACK, f"the monitor took {task.id} from {worker}, lease left {left:.1f} s"
                        del self.held[worker]

        @rule(sweep=st.sampled_from(["stuck", "retention"]))
        def monitor_sweeps(self, sweep: str) -> None:
            if sweep == "stuck":
                self.monitor.fail_stuck()
            else:
                self.monitor.prune()

        # --- an operator --------------------------------------------------------------------------

        @precondition(lambda self: self.ids)
        @rule(data=st.data(), action=st.sampled_from([*Status, "retry", "cancel", "delete"]))
        def operator_acts(self, data: st.DataObject, action: Status | str) -> None:
            """An operator sets a status by hand (the seed's update), retries, cancels or deletes a task."""
            task = self._existing(data)
            if task is None:
                return
            with contextlib.suppress(InvalidInput, TransitionConflict):
                if isinstance(action, Status):
                    operations.update_status(store, task, action, actor="cli", lease_seconds=LEASE)
                elif action == "retry":
                    operations.retry(store, task, actor="cli")
                elif action == "cancel":
                    operations.cancel(store, task, actor="cli")
                else:
                    operations.delete(store, self.tasks_dir, task)

        def _existing(self, data: st.DataObject) -> Task | None:
            task_id = data.draw(st.sampled_from(self.ids))
            found = store.list(search=task_id, limit=1)
            return found[0] if found else None

        # --- the promises -------------------------------------------------------------------------

        @invariant()
        def every_processing_task_will_be_found_by_a_sweep(self) -> None:
            for task in store.list(status=Status.PROCESSING, limit=10_000):
                assert task.lease_expires_at is not None and task.started_at is not None, task

        @invariant()
        def histories_replay_and_attempts_never_go_down(self) -> None:
            for task in store.list(limit=10_000):
                history = store.events(task.id)
                assert history[0].from_status is None and history[0].to_status == Status.QUEUED.value
                for before, after in itertools.pairwise(history):
                    assert after.from_status == before.to_status, (
                        task.id,
                        [(e.from_status, e.to_status) for e in history],
                    )
                assert history[-1].to_status == task.status.value
                assert task.attempt >= self.attempts.get(task.id, 0)
                self.attempts[task.id] = task.attempt

        @invariant()
        def only_the_completing_attempt_s_files_are_recorded(self) -> None:
            with store.engine.connect() as connection:
                rows = connection.execute(
                    sa.select(tasks.c.id, tasks.c.status, tasks.c.attempt, artifacts.c.path).join(
                        artifacts, artifacts.c.task_id == tasks.c.id
                    )
                ).all()
            for task_id, status, attempt, path in rows:
                assert status == Status.COMPLETED.value, (task_id, status)
                assert path.startswith(f"{files.attempt_dir(Path(''), task_id, attempt)}/"), (path, attempt)

        @invariant()
        def the_task_tool_s_plain_reader_answers_as_the_store(self) -> None:
            """``task list``/``info``/``find-stuck`` read SQLite without SQLAlchemy (``tasks.sqlite_reads``): the
            same tasks, fields, times, events and files as the store, in the same order."""
            if self.plain is None:
                assert not store.is_sqlite, "the plain reader refused the model's own SQLite store"
                return
            self.plain.time_offset = store.time_offset
            for status in (None, *Status):
                assert self.plain.list(status=status, limit=10_000) == store.list(status=status, limit=10_000)
            everything = store.list(limit=10_000)
            for task in everything:
                assert self.plain.resolve(task.id) == store.resolve(task.id)
                assert self.plain.events(task.id) == store.events(task.id)
                assert self.plain.artifacts(task.id) == store.artifacts(task.id)
            searches = ["in.p", "IN.PNG", "%", "_", "n/"] + [t.id[:6] for t in everything[:1]]
            for search in searches:  # a file name's part (% and _ are no wildcards) or an id's prefix
                assert self.plain.list(search=search, limit=5) == store.list(search=search, limit=5), search
            now = store.clock()
            ages = [(now - t.started_at).total_seconds() for t in everything if t.started_at is not None]
            for seconds in (0.0, MAX_PROCESSING):
                if all(abs(age - seconds) > 1.0 for age in ages):  # not at the edge while both ask
                    assert self.plain.processing_longer_than(seconds) == store.processing_longer_than(seconds)

    return TaskSystem


def test_no_sequence_of_events_breaks_the_task_system(store):
    machine = machine_for(store)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=40, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )  # fmt: skip
