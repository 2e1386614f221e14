"""Scale-out on real engines: Celery workers on a real Redis, the store on a real PostgreSQL.

Each test starts its own redis-server and PostgreSQL database, a real `pixeletica serve` (API,
dispatcher, monitor) and real Celery worker processes, and drives them over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pixeletica.tasks.model import Status

from ..api.conftest import TOKEN, running_server
from ..servers import redis, wait_for
from ..tasks.conftest import fast_settings, settings_env

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

PHOTO = (Path(__file__).resolve().parents[2] / "samples" / "coffee.jpg").read_bytes()
BIG = (Path(__file__).resolve().parents[2] / "samples" / "astronaut.jpg").read_bytes()


@pytest.fixture
def broker():
    with redis() as server:
        yield server


@pytest.fixture
def cluster_settings(tmp_path, pg_cluster, broker):
    settings = fast_settings(
        tmp_path / "data", admin_token=TOKEN, database_url=pg_cluster.database(), broker_url=broker.url,
        redispatch_seconds=3.0,
    )  # fmt: skip
    settings.data_dir.mkdir(parents=True)
    return settings


class Workers:
    """`pixeletica worker --celery` in a child process (its own process group, to kill it whole)."""

    def __init__(self, settings, log: Path, concurrency: int = 1) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pixeletica", "worker", "--celery", "--concurrency", str(concurrency)],
            env=settings_env(settings), stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: "ready." in log.read_text() or self.proc.poll() is not None, 60, "the Celery worker")
        assert self.proc.poll() is None, log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@contextlib.contextmanager
def celery_service(settings, log: Path, concurrency: int = 1):
    """Celery workers, then `pixeletica serve` without local workers; yields the server, stops both."""
    workers = Workers(settings, log, concurrency)
    try:
        with running_server(settings, 0) as server:
            yield server
    finally:
        workers.stop()


def submit(server, data: bytes = PHOTO, **metadata) -> str:
    answer = server.client.post(
        "/api/conversion/start",
        files={"image_file": ("coffee.jpg", data, "image/jpeg")},
        data={"metadata": json.dumps({"width": 16, **metadata})},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["taskId"]


def status(server, task_id: str) -> str:
    return server.client.get(f"/api/conversion/{task_id}").json()["status"]


def all_completed(server, ids: list[str], timeout: float = 120) -> None:
    wait_for(lambda: all(status(server, i) == "completed" for i in ids), timeout, "every task to complete")


def test_tasks_submitted_over_http_complete_on_celery_and_the_seed_commands_work(cluster_settings, tmp_path):
    workers = Workers(cluster_settings, tmp_path / "worker.log", concurrency=2)
    try:
        with running_server(cluster_settings, 0) as server:
            ids = [submit(server) for _ in range(4)]
            all_completed(server, ids)
            task = server.store.get(ids[0])
            assert task.worker_id.startswith("celery:") and task.dispatched_at is not None
            env = settings_env(cluster_settings)
            for command in ("inspect active", "status"):
                shown = subprocess.run(
                    [str(Path(sys.executable).with_name("celery")), "-A",
                     "pixeletica.api.services.task_queue.celery_app", *command.split()],
                    env=env, capture_output=True, text=True, timeout=60, check=False,
                )  # fmt: skip
                assert shown.returncode == 0 and "OK" in shown.stdout, shown.stdout + shown.stderr
            health = server.client.get("/api/health").json()
            assert any(name.startswith("celery:") for name in health["workers"]["names"]), health
    finally:
        workers.stop()


def test_high_priority_tasks_overtake_queued_ones(cluster_settings, tmp_path):
    with running_server(cluster_settings, 0) as server:
        low = [submit(server, priority="low") for _ in range(3)]
        high = submit(server, priority="high")
        wait_for(lambda: server.store.get(high).dispatched_at is not None, 30, "dispatch")
        workers = Workers(cluster_settings, tmp_path / "worker.log", concurrency=1)
        try:
            all_completed(server, [*low, high])
        finally:
            workers.stop()
        started = {i: server.store.get(i).started_at for i in [*low, high]}
        assert started[high] < min(started[i] for i in low)


def test_tasks_accepted_while_redis_is_down_run_when_it_is_back(cluster_settings, broker, tmp_path):
    workers = Workers(cluster_settings, tmp_path / "worker.log")
    try:
        with running_server(cluster_settings, 0) as server:
            broker.stop()
            started = time.monotonic()
            ids = [submit(server) for _ in range(3)]  # accepted: stored first, sent later
            assert time.monotonic() - started < 10
            assert all(server.store.get(i).dispatched_at is None for i in ids)
            broker.start()
            all_completed(server, ids, timeout=180)
    finally:
        workers.stop()


def test_a_message_lost_by_the_broker_is_sent_again_by_the_monitor(cluster_settings, broker, tmp_path):
    with running_server(cluster_settings, 0) as server:
        task_id = submit(server)
        wait_for(lambda: server.store.get(task_id).dispatched_at is not None, 30, "dispatch")
        subprocess.run(["redis-cli", "-p", str(broker.port), "FLUSHALL"], check=True, capture_output=True)
        workers = Workers(cluster_settings, tmp_path / "worker.log")
        try:
            all_completed(server, [task_id], timeout=120)  # re-sent after redispatch_seconds
        finally:
            workers.stop()
        assert server.store.get(task_id).attempt == 1


def test_a_celery_worker_killed_mid_task_is_recovered_and_completes_once(cluster_settings, tmp_path):
    log = tmp_path / "worker.log"
    workers = Workers(cluster_settings, log)
    try:
        with running_server(cluster_settings, 0) as server:
            task_id = submit(server, BIG, width=300, metric="ciede2000", dithering_algorithm="optimise")
            wait_for(lambda: server.store.get(task_id).status == Status.PROCESSING, 60, "processing")
            child = int(server.store.get(task_id).worker_id.rsplit(":", 1)[1])
            os.kill(child, signal.SIGKILL)  # the pool process running the task
            all_completed(server, [task_id], timeout=240)
            task = server.store.get(task_id)
            assert task.attempt == 2
            history = [(e.from_status, e.to_status) for e in server.store.events(task_id)]
            assert history.count(("queued", "processing")) == 2 and history[-1] == ("processing", "completed")
            outputs = [a for a in server.store.artifacts(task_id) if a.category != "input"]
            assert outputs and all("/attempt-2/" in a.path for a in outputs)
    finally:
        workers.stop()


def test_postgresql_restarted_mid_run_api_answers_503_then_everything_recovers(tmp_path, broker):
    from ..servers import postgres

    with postgres() as pg:
        settings = fast_settings(
            tmp_path / "data", admin_token=TOKEN, database_url=pg.database(), broker_url=broker.url,
            redispatch_seconds=3.0,
        )  # fmt: skip
        settings.data_dir.mkdir(parents=True)
        workers = Workers(settings, tmp_path / "worker.log")
        try:
            with running_server(settings, 0) as server:
                first = submit(server)
                all_completed(server, [first])
                pg.stop("fast")
                started = time.monotonic()
                down = server.client.get(f"/api/conversion/{first}")
                assert down.status_code == 503 and "task store is unavailable" in down.json()["detail"]
                refused = server.client.post(
                    "/api/conversion/start",
                    files={"image_file": ("coffee.jpg", PHOTO, "image/jpeg")},
                    data={"metadata": '{"width": 16}'},
                )
                assert refused.status_code == 503
                assert server.client.get("/api/health").status_code == 503
                assert time.monotonic() - started < 30  # answers, never hangs
                time.sleep(2)  # workers and the monitor see the store gone for a while
                pg.start()
                wait_for(lambda: server.client.get("/api/health").status_code == 200, 60, "the API to recover")
                again = [submit(server) for _ in range(3)]
                all_completed(server, again, timeout=120)
                assert server.store.get(first).status == Status.COMPLETED
        finally:
            workers.stop()


def test_rabbitmq_works_as_the_broker_too(tmp_path, pg_cluster):
    from ..servers import rabbitmq

    with rabbitmq() as url:
        settings = fast_settings(
            tmp_path / "data", admin_token=TOKEN, database_url=pg_cluster.database(), broker_url=url
        )
        settings.data_dir.mkdir(parents=True)
        workers = Workers(settings, tmp_path / "worker.log")
        try:
            with running_server(settings, 0) as server:
                ids = [submit(server, priority=p) for p in ("low", "high", "normal")]
                all_completed(server, ids)
                assert all(server.store.get(i).worker_id.startswith("celery:") for i in ids)
        finally:
            workers.stop()


def test_celery_s_time_limit_fails_the_task_as_the_stuck_sweep_does(cluster_settings, tmp_path):
    settings = cluster_settings.replace(task_max_processing_time=1.0)
    with celery_service(settings, tmp_path / "worker.log") as server:
        task_id = submit(server, BIG, width=300, metric="ciede2000", dithering_algorithm="optimise")
        wait_for(lambda: server.store.get(task_id).finished, 120, "the task to stop")
        task = server.store.get(task_id)
        assert task.status == Status.FAILED and task.error_code == "timed_out", (task.error, task.traceback)
        assert task.error.startswith("processing took longer than 1 seconds (TASK_MAX_PROCESSING_TIME)")
        public = server.client.get(f"/api/conversion/{task_id}").json()
        assert public["error"] == task.error and "Traceback" not in public["error"]
        assert server.store.artifacts(task_id) == []


def test_cancelling_a_task_running_on_celery_stops_it_and_records_nothing(cluster_settings, tmp_path):
    with celery_service(cluster_settings, tmp_path / "worker.log") as server:
        task_id = submit(server, BIG, width=300, metric="ciede2000", dithering_algorithm="optimise")
        wait_for(lambda: server.store.get(task_id).progress > 0, 60, "the conversion to be under way")
        cancelled = server.client.post(f"/api/tasks/{task_id}/cancel", headers=server.admin)
        assert cancelled.status_code == 200, cancelled.text
        after = submit(server)  # the worker is free again soon: it stopped at its next progress report
        all_completed(server, [after], timeout=120)
        task = server.store.get(task_id)
        assert task.status == Status.FAILED and task.error == "cancelled"
        assert server.store.artifacts(task_id) == []
        assert not (cluster_settings.tasks_dir / task_id / "attempt-1").exists()
        assert [e.to_status for e in server.store.events(task_id)] == ["queued", "processing", "failed"]


def _postgres_processes(data: Path) -> list[int]:
    """The postmaster and every backend of a cluster (to stop them all as a frozen machine would be)."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    return [postmaster, *map(int, children)]


def test_a_postgresql_that_stops_answering_means_503_in_seconds_then_recovery(tmp_path):
    """SIGSTOP: connections stay open but nothing answers (a frozen machine, dropped packets)."""
    from ..servers import postgres

    with postgres() as pg:
        settings = fast_settings(tmp_path / "data", admin_token=TOKEN, database_url=pg.database())
        settings.data_dir.mkdir(parents=True)
        with running_server(settings, 1) as server:
            first = submit(server, generate_web_files=True)
            all_completed(server, [first])
            frozen = _postgres_processes(pg.data)
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
            try:
                # Every kind of route that reads or writes the store: the compatible API, the maps,
                # the admin API, the metrics. The first takes the pool's idle connection, whose
                # check waits on the stopped server for ever unless the call is bounded (later ones
                # may open new connections, which the connect timeout ends).
                for method, path, extra in (
                    ("GET", f"/api/conversion/{first}/files", {}),
                    ("GET", f"/api/conversion/{first}", {}),
                    ("GET", "/api/health", {}),
                    ("POST", "/api/conversion/start", {
                        "files": {"image_file": ("coffee.jpg", PHOTO, "image/jpeg")},
                        "data": {"metadata": '{"width": 16}'},
                    }),
                    ("GET", f"/api/conversion/{first}/download", {}),
                    ("GET", f"/api/conversion/{first}/events", {}),
                    ("DELETE", f"/api/conversion/{first}", {}),
                    ("GET", "/api/maps.json", {}),
                    ("GET", f"/api/map/{first}/metadata.json", {}),
                    ("GET", "/api/tasks", {"headers": server.admin}),
                    ("GET", f"/api/tasks/{first}", {"headers": server.admin}),
                    ("GET", "/metrics", {}),
                ):  # fmt: skip
                    answer = server.client.request(method, path, **extra)
                    assert answer.status_code == 503 and answer.headers["retry-after"], (path, answer.text)
            finally:
                for pid in frozen:
                    os.kill(pid, signal.SIGCONT)
            wait_for(lambda: server.client.get("/api/health").status_code == 200, 60, "the API to recover")
            assert server.client.get(f"/api/conversion/{first}").json()["status"] == "completed"
            assert server.client.get("/api/maps.json").json()["maps"][0]["id"] == first
            again = submit(server)
            all_completed(server, [again], timeout=120)
