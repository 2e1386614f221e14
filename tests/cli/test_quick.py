"""Quick answers (`pixeletica --help`, `task list`, `task info`, `task find-stuck`) are the full command line's
answers, byte for byte, without loading the command-line library, pydantic or SQLAlchemy; anything out of the
ordinary is handed over to the full command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from pixeletica.tasks.migrations import HEAD_REVISION
from pixeletica.tasks.model import NewArtifact, Status, utcnow
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store import Store

from ..tasks.conftest import fast_settings, settings_env

#: The full command line, never the quick answers (what `pixeletica` ran before they existed).
_FULL = "import sys; from pixeletica.cli.main import run; sys.argv[0] = 'pixeletica'; run()"
#: The modules a quick answer must not load: each takes longer to load than the whole answer may.
_HEAVY = ("sqlalchemy", "typer", "click", "pydantic", "pydantic_settings", "numpy", "numba", "PIL", "alembic")


def quick(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("pixeletica")  # the console script, as installed
    return subprocess.run([script, *args], env=env, capture_output=True, text=True)


def full(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _FULL, *args], env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A store with a task of every status, names that are hostile to terminals and to LIKE, a stuck task,
    and a completed task with files."""
    settings = fast_settings(tmp_path_factory.mktemp("quick") / "data")
    store = Store(settings.store_url)
    store.upgrade()
    made = []
    for name in ("coffee.jpg", "\x1b[31mred\x1b[0m.png", "50%_off.png", "pâte\u202e.png", "Ünïcödé_ÄÖ.png"):
        made.append(
            store.create(
                settings={"width": 12}, input_name=name, input_size=10, input_sha256="0" * 64, priority=1,
                max_attempts=3, actor="test",
            )
        )  # fmt: skip
    stuck = store.claim("w:1", 7200)
    with store.engine.begin() as connection:
        old = utcnow() - dt.timedelta(hours=2)
        connection.execute(sa.update(tasks).where(tasks.c.id == stuck.id).values(started_at=old))
    done = store.claim("w:2", 60)
    files = [NewArtifact(file_id="dithered", category="image", filename="a\x07.png", media_type="image/png", size=5,
                         sha256="f" * 64, path=f"{done.id}/1/a.png")]  # fmt: skip
    store.complete(done, files, {"width": 12}, "w:2")
    failed = store.claim("w:3", 60)
    store.transition(failed, Status.FAILED, actor="w:3", message="failed", error="boom\nwith a second line")
    yield settings_env(settings), made, stuck
    store.dispose()


def _answered(made, stuck) -> list[list[str]]:
    """Command lines answered quickly."""
    return [
        ["--help"],
        ["--version"],
        ["task", "list"],
        ["task", "list", "--json"],
        ["task", "list", "--status", "processing"],
        ["task", "list", "-s", " Failed ", "-n", "2"],
        ["task", "list", "--search", "50%_"],
        ["task", "list", "--search", "%"],
        ["task", "list", "--search", "äö", "--json"],
        ["task", "list", "--limit", "1", "--json", "--search", "RED"],
        ["task", "info", made[1].id],
        ["task", "info", made[2].id[:8], "--json"],
        ["task", "info", stuck.id],
        ["task", "find-stuck"],
        ["task", "find-stuck", "--json"],
        ["task", "find-stuck", "--max-time", "60.5", "--json"],
        ["task", "find-stuck", "--max-time", "99999"],
    ]


def _handed_over(made) -> list[list[str]]:
    """Command lines the full command line answers or refuses."""
    return [
        ["task", "list", "--status", "lost"],
        ["task", "list", "--limit", "0"],
        ["task", "list", "--limit", "1_000"],
        ["task", "list", "--status=processing"],
        ["task", "list", "--json", "--json"],
        ["task", "info", "0000"],
        ["task", "info", "not-an-id"],
        ["task", "info"],
        ["task", "info", made[0].id, "--help"],
        ["task", "find-stuck", "--max-time", "nan"],
        ["task", "find-stuck", "--max-time", "-1"],
        ["task", "find-stuck", "--max-time"],
        ["task", "stats"],
    ]


def test_quick_answers_are_the_full_command_lines_answers(filled):
    env, made, stuck = filled
    for args in _answered(made, stuck) + _handed_over(made):
        fast, slow = quick(*args, env=env), full(*args, env=env)
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr), args
    found = json.loads(quick("task", "list", "--search", "äö", "--json", env=env).stdout)
    assert [task["id"] for task in found] == [made[4].id]  # not only ASCII letters match either case
    shown = quick("task", "info", made[1].id, env=env).stdout
    assert "\\x1b[31mred" in shown and "\x1b" not in shown  # a name cannot colour the terminal


def test_quick_answers_load_neither_the_command_line_library_nor_the_store_nor_the_engine(filled):
    env, made, stuck = filled
    probe = (
        "import io, sys; from pixeletica.cli import quick; sys.stdout = io.StringIO(); "
        "answered = quick.answer(sys.argv[1:]); sys.stdout = sys.__stdout__; "
        f"print(answered, sorted({{m.split('.')[0] for m in sys.modules}} & set({_HEAVY!r})))"
    )
    for args, expected in [(a, "True []") for a in _answered(made, stuck)] + [(a, "False") for a in _handed_over(made)]:
        done = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().startswith(expected), (args, done.stdout[-300:])


def test_a_store_to_migrate_a_missing_one_or_a_bad_setting_is_handed_over(tmp_path):
    settings = fast_settings(tmp_path / "data")
    env = settings_env(settings)
    missing = quick("task", "list", env=env)  # no database yet: the full command line makes it
    assert missing.returncode == 0 and "0 task(s)" in missing.stdout
    store = Store(settings.store_url)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0004'")
        connection.exec_driver_sql("DROP INDEX ix_tasks_status_started")
    old = quick("task", "find-stuck", env=env)  # the Store migrates it first
    assert old.returncode == 0 and "0 task(s) processing" in old.stdout
    assert store.revision() == HEAD_REVISION
    store.dispose()
    bad = {**env, "PIXELETICA_LEASE_SECONDS": "soon"}
    refused = quick("task", "list", env=bad)
    assert (refused.returncode, refused.stderr) == (2, full("task", "list", env=bad).stderr)
    assert refused.stderr == "error: PIXELETICA_LEASE_SECONDS='soon' is not valid: Input should be a valid number, " \
        "unable to parse string as a number\n"  # fmt: skip


def test_a_damaged_store_or_one_of_a_newer_version_is_one_line(filled, tmp_path):
    env, _, _ = filled
    source = Path(env["PIXELETICA_DATA_DIR"]) / "pixeletica.db"
    for name, harm, commands in (
        ("damaged", _scribble, [["task", "list"], ["task", "find-stuck"]]),
        ("newer", _from_the_future, [["task", "list"], ["task", "find-stuck"], ["task", "info", "0"]]),
    ):
        folder = tmp_path / name
        folder.mkdir()
        with (
            contextlib.closing(sqlite3.connect(source)) as live,
            contextlib.closing(sqlite3.connect(folder / "pixeletica.db")) as copy,
        ):
            live.backup(copy)  # the file alone may lack what is still in the write-ahead log
        harm(folder / "pixeletica.db")
        for args in commands:
            done = quick(*args, env={**env, "PIXELETICA_DATA_DIR": str(folder)})
            assert done.returncode == 2 and done.stderr.count("\n") == 1, (name, done.stderr[-500:])
            assert done.stderr.startswith("error: ") and (
                "malformed" in done.stderr or "newer Pixeletica" in done.stderr
            )


def _scribble(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as database:  # every page but the first (the schema): each table's rows are junk
        database.seek(4096)
        database.write(b"junk" * ((size - 4096) // 4))


def _from_the_future(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as database, database:
        database.execute("UPDATE alembic_version SET version_num = '9999'")


def test_the_seeds_entry_point_answers_quickly_too(filled):
    env, _, stuck = filled
    root = Path(__file__).resolve().parents[2]
    line = [sys.executable, "src/pixeletica/cli_task.py", "find-stuck", "--json"]
    done = subprocess.run(line, cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and stuck.id in done.stdout
    assert done.stdout == quick("task", "find-stuck", "--json", env=env).stdout
