"""Operations on tasks that callers (CLI, API) share: submit, retry, cancel, manual update, delete."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixeletica import fsutil, names
from pixeletica.config import Settings
from pixeletica.errors import InvalidInput, StorageUnavailable, TransitionConflict
from pixeletica.tasks import files
from pixeletica.tasks.model import ErrorCode, Priority, Status, Task
from pixeletica.tasks.store import Store

if TYPE_CHECKING:
    from pixeletica.engine.conversion_settings import ConversionSettings

log = logging.getLogger("pixeletica.tasks")
#: The server's own default (PIXELETICA_MAX_ATTEMPTS), for callers that submit without settings at hand.
_DEFAULT_MAX_ATTEMPTS: int = Settings.default("max_attempts")


def submit(
    store: Store,
    tasks_dir: Path,
    *,
    data: bytes,
    filename: str,
    settings: ConversionSettings,
    priority: Priority = Priority.NORMAL,
    max_attempts: int = _DEFAULT_MAX_ATTEMPTS,
    actor: str = "api",
    owner: str | None = None,
    public: bool = False,
) -> Task:
    """Check the image header and the settings against the image's size, keep the input file, and
    store a queued task.

    ``settings`` are checked already (:meth:`ConversionSettings.from_dict`, with the server's
    limits); the image is refused beyond their ``max_input_pixels``. Bad input raises
    :class:`InvalidInput` (or a subclass) and stores nothing; a tasks folder that cannot be
    written raises :class:`StorageUnavailable` and leaves nothing behind.
    """
    from pixeletica.engine import image_io  # the engine (numpy, Pillow, compiled kernels): only submit needs it

    _, width, height = image_io.probe(data, max_pixels=settings.options.max_input_pixels)
    settings.check_size(width, height)
    task_id = str(uuid.uuid4())
    name = names.file_name(filename, "input")
    path = files.input_path(tasks_dir, task_id, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write(path, data)
    except OSError as exc:
        files.remove_task_files(tasks_dir, task_id)
        log.error("cannot store the input of a new task in %s: %s", tasks_dir, exc)
        raise StorageUnavailable("the server cannot store uploads right now; try again later") from None
    try:
        return store.create(
            task_id=task_id,
            settings=settings.to_dict(),
            input_name=name,
            input_size=len(data),
            input_sha256=hashlib.sha256(data).hexdigest(),
            priority=priority,
            max_attempts=max_attempts,
            actor=actor,
            owner=owner,
            public=public,
        )
    except BaseException:
        files.remove_task_files(tasks_dir, task_id)
        raise


def retry(store: Store, task: Task, *, actor: str) -> Task:
    """Queue a finished task again, with a fresh set of attempts."""
    if task.status not in (Status.FAILED, Status.COMPLETED):
        raise InvalidInput(f"task {task.id} is {task.status.value}; only failed or completed tasks can be retried")
    return store.transition(
        task,
        Status.QUEUED,
        actor=actor,
        message="retried",
        max_attempts=task.attempt + task.max_attempts if task.attempt >= task.max_attempts else task.max_attempts,
        error=None,
        error_code=None,
        traceback=None,
        not_before=None,
    )


def cancel(store: Store, task: Task, *, actor: str) -> Task:
    """queued or processing -> failed, with the error 'cancelled'.

    A task that changed since it was read (a worker claimed it meanwhile) is cancelled as it is now.
    """
    tries = 3
    while True:
        if task.finished:
            raise InvalidInput(f"task {task.id} is already {task.status.value}")
        try:
            return store.transition(
                task, Status.FAILED, actor=actor, message="cancelled", error="cancelled",
                error_code=ErrorCode.CANCELLED.value,
            )  # fmt: skip
        except TransitionConflict:
            tries -= 1
            if not tries:
                raise
            task = store.get(task.id)


def update_status(store: Store, task: Task, status: Status, *, actor: str, lease_seconds: float) -> Task:
    """The seed's manual override: set any status, recorded as an event by ``actor``.

    Set to ``processing``, a task has a start time and a lease of ``lease_seconds`` that no worker
    renews: unless a worker's own claim takes over, the lease sweep finds it and queues it again.
    """
    if status == task.status:
        raise InvalidInput(f"task {task.id} is already {status.value}")
    fields: dict[str, Any] = {}
    if status == Status.FAILED:
        fields = {"error": f"marked failed by {actor}", "error_code": ErrorCode.MANUAL.value}
    elif status == Status.QUEUED:
        fields = {"error": None, "error_code": None, "traceback": None, "not_before": None}
    elif status == Status.COMPLETED:  # completed by hand: no longer failed with the error it may have had
        fields = {"error": None, "error_code": None, "traceback": None}
    elif status == Status.PROCESSING:
        fields = {"lease_seconds": lease_seconds}
    return store.transition(
        task, status, actor=actor, message=f"status set to {status.value} by hand", manual=True, **fields
    )


def delete(store: Store, tasks_dir: Path, task: Task) -> bool:
    """Delete a task's record and its files; False if the task changed since it was read (nothing deleted).

    The files are moved aside first: a folder that cannot be removed leaves the task as it was
    (:class:`StorageUnavailable`), never a record gone with its files left behind for good.
    """
    aside = files.set_aside(tasks_dir, task.id)
    try:
        gone = store.delete(task)
    except BaseException:
        files.put_back(aside, tasks_dir, task.id)
        raise
    if gone:
        files.remove_set_aside(aside)
    else:
        files.put_back(aside, tasks_dir, task.id)
    return gone
