"""Where a task's files live: ``<tasks dir>/<task id>/input/<name>`` and ``.../attempt-<n>/<name>``.

Each attempt writes into its own folder, so a worker that lost its task (and a second delivery)
can never overwrite the files of the attempt that completed it; only that attempt's files are
recorded as the task's artifacts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pixeletica import names


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


def remove_attempt(tasks_dir: Path, task_id: str, attempt: int) -> None:
    shutil.rmtree(attempt_dir(tasks_dir, task_id, attempt), ignore_errors=True)
