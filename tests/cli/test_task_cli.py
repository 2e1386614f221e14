"""The task tool: the seed's command lines exactly as written, and the rest of `pixeletica task`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from pixeletica.tasks.model import Status, utcnow
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store import Store

from ..tasks.conftest import fast_settings, settings_env, submit

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env_store(tmp_path):
    settings = fast_settings(tmp_path / "data")
    store = Store(settings.store_url)
    store.upgrade()
    yield settings, store, settings_env(settings)
    store.dispose()


def seed(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command line as the seed writes it, from the repository root."""
    assert line.startswith("python src/pixeletica/cli_task.py ")
    args = line.split()[1:]
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def task_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixeletica", "task", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_seeds_commands_work_as_written(env_store):
    settings, store, env = env_store
    queued = submit(store, settings)
    stuck = submit(store, settings)
    claimed = store.claim("w:1", 7200)
    assert claimed.id == queued.id
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).where(tasks.c.id == claimed.id).values(started_at=utcnow() - dt.timedelta(hours=2)))

    listed = seed("python src/pixeletica/cli_task.py list", env)
    assert listed.returncode == 0 and queued.id in listed.stdout and stuck.id in listed.stdout

    processing = seed("python src/pixeletica/cli_task.py list --status processing", env)
    assert processing.returncode == 0 and queued.id in processing.stdout and stuck.id not in processing.stdout

    info = seed(f"python src/pixeletica/cli_task.py info {queued.id}", env)
    assert info.returncode == 0 and "claimed (attempt 1)" in info.stdout and "coffee.jpg" in info.stdout

    found = seed("python src/pixeletica/cli_task.py find-stuck", env)
    assert found.returncode == 0 and queued.id in found.stdout
    found_short = seed("python src/pixeletica/cli_task.py find-stuck --max-time 1800", env)
    assert queued.id in found_short.stdout
    none_found = seed("python src/pixeletica/cli_task.py find-stuck --max-time 99999", env)
    assert queued.id not in none_found.stdout

    reset = seed("python src/pixeletica/cli_task.py reset-stuck", env)
    assert reset.returncode == 0 and "marked 1 stuck task(s) as failed" in reset.stdout
    assert store.get(queued.id).status == Status.FAILED
    assert store.get(queued.id).error == (
        "processing took longer than 3600 seconds (TASK_MAX_PROCESSING_TIME); marked failed by reset-stuck (cli)"
    )
    assert store.events(queued.id)[-1].actor == "cli"

    updated = seed(f"python src/pixeletica/cli_task.py update {queued.id} --status completed", env)
    assert updated.returncode == 0 and f"{queued.id} is now completed" in updated.stdout
    last = store.events(queued.id)[-1]
    assert (last.from_status, last.to_status, last.actor) == ("failed", "completed", "cli")


def test_submit_retry_cancel_stats_prune_and_json(env_store):
    _, store, env = env_store
    sample = ROOT / "samples" / "chelsea.jpg"
    made = task_cli("submit", str(sample), "--width", "16", "--priority", "high", "--json", env=env)
    assert made.returncode == 0, made.stderr
    task = json.loads(made.stdout)
    assert task["status"] == "queued" and task["priority"] == "high" and task["settings"]["width"] == 16

    prefix = task["id"][:8]
    cancelled = task_cli("cancel", prefix, env=env)
    assert cancelled.returncode == 0 and store.get(task["id"]).error == "cancelled"
    retried = task_cli("retry", prefix, "--json", env=env)
    assert retried.returncode == 0 and json.loads(retried.stdout)["status"] == "queued"

    listed = json.loads(task_cli("list", "--json", "--limit", "5", env=env).stdout)
    assert [t["id"] for t in listed] == [task["id"]]
    info = json.loads(task_cli("info", prefix, "--json", env=env).stdout)
    assert [e["to_status"] for e in info["events"]] == ["queued", "failed", "queued"]

    stats = json.loads(task_cli("stats", "--since", "1h", "--json", env=env).stdout)
    assert stats["counts"]["queued"] == 1 and stats["total"] == 1
    table = task_cli("stats", env=env)
    assert table.returncode == 0 and "failure rate" in table.stdout

    pruned = task_cli("prune", env=env)
    assert pruned.returncode == 0 and "deleted 0 task(s)" in pruned.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["info", "0123abcd"], 1, "task not found: 0123abcd"),
        (["update", "0123abcd", "--status", "failed"], 1, "task not found"),
        (["list", "--status", "stuck"], 2, "unknown status 'stuck'; choose one of: queued, processing"),
        (["stats", "--since", "yesterday"], 2, "not a duration"),
        (["submit", "/no/such/file.png"], 2, "does not exist"),
        (["submit", str(ROOT / "samples" / "coffee.jpg"), "--game-version", "9"], 2, "must be a Java release"),
        (["retry", "CURRENT"], 1, "task not found"),
    ],
)
def test_errors_have_clear_messages_and_exit_codes(env_store, args, code, message):
    _, _, env = env_store
    result = task_cli(*args, env=env)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_retry_of_a_queued_task_is_refused(env_store):
    settings, store, env = env_store
    task = submit(store, settings)
    result = task_cli("retry", task.id, env=env)
    assert result.returncode == 2 and "only failed or completed tasks can be retried" in result.stderr
