"""Where a task's files live: ``<tasks dir>/<task id>/input/<name>`` and ``.../attempt-<n>/<name>``.

Each attempt writes into its own folder, so a worker that lost its task (and a second delivery)
can never overwrite the files of the attempt that completed it; only that attempt's files are
recorded as the task's artifacts.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

from pixeletica import names
from pixeletica.errors import StorageUnavailable

log = logging.getLogger("pixeletica.tasks")


def output_stem(input_name: str) -> str:
    """The stem of a task's output files (``<stem>_dithered.png``...): its input's name made safe."""
    return names.file_stem(Path(input_name).stem)


def task_dir(tasks_dir: Path, task_id: str) -> Path:
    return tasks_dir / task_id


def input_path(tasks_dir: Path, task_id: str, input_name: str) -> Path:
    return task_dir(tasks_dir, task_id) / "input" / names.file_name(input_name, "input")


def attempt_dir(tasks_dir: Path, task_id: str, attempt: int) -> Path:
    return task_dir(tasks_dir, task_id) / f"attempt-{attempt}"


def remove_task_files(tasks_dir: Path, task_id: str) -> None:
    shutil.rmtree(task_dir(tasks_dir, task_id), ignore_errors=True)


def set_aside(tasks_dir: Path, task_id: str) -> Path | None:
    """Move a task's folder out of the way (one rename) before its record goes; None if it has none.

    Raises :class:`StorageUnavailable` if it cannot be moved: then nothing has changed, and the
    task (and retention's next try) still find every file.
    """
    folder = task_dir(tasks_dir, task_id)
    aside = tasks_dir / f".deleting-{task_id}"
    try:
        folder.rename(aside)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.error("cannot move its files to delete them: %s", exc, extra={"task_id": task_id})
        raise StorageUnavailable("the task's files cannot be deleted right now; try again later") from None
    return aside


def put_back(aside: Path | None, tasks_dir: Path, task_id: str) -> None:
    """Undo :func:`set_aside` (the task changed meanwhile and was not deleted)."""
    if aside is not None:
        aside.rename(task_dir(tasks_dir, task_id))


def remove_set_aside(aside: Path | None) -> None:
    """Remove a folder set aside; what cannot be removed is logged (its record is gone already)."""
    if aside is None:
        return

    def report(_function: object, path: str, error: object) -> None:
        log.error("cannot remove %s of a deleted task: %s", path, error[1] if isinstance(error, tuple) else error)

    if sys.version_info >= (3, 12):
        shutil.rmtree(aside, onexc=report)
    else:
        shutil.rmtree(aside, onerror=report)


def remove_attempt(tasks_dir: Path, task_id: str, attempt: int) -> None:
    shutil.rmtree(attempt_dir(tasks_dir, task_id, attempt), ignore_errors=True)
