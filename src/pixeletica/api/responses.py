"""The shapes of the compatible API's answers (field names as existing clients expect them)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from pydantic import BaseModel, Field

from pixeletica.engine import quality as engine_quality
from pixeletica.tasks.model import Artifact, Status, Task, iso


class Quality(BaseModel):
    """How close a completed task's picture is to its source (CIEDE2000; lower is better)."""

    blurredDeltaE2000: float = Field(description="after both pictures are blurred as the eye sees them from afar")
    meanDeltaE2000: float = Field(description="per block, without the blur (dithering raises it on purpose)")
    explanation: str


class TaskResponse(BaseModel):
    """A task's status, as ``GET /conversion/{taskId}`` and ``POST /conversion/start`` answer."""

    taskId: str
    status: str
    progress: int | None = None
    timestamp: str | None = None
    error: str | None = None
    step: str | None = Field(default=None, description="current step (beyond the reference)")
    quality: Quality | None = Field(default=None, description="a completed task's fidelity (beyond the reference)")

    @classmethod
    def of(cls, task: Task) -> TaskResponse:
        return cls(
            taskId=task.id,
            status=task.status.value,
            progress=task.progress,
            timestamp=iso(task.updated_at),
            error=task.public_error,
            step=task.step,
            quality=_quality(task),
        )


def _quality(task: Task) -> Quality | None:
    """The scores a completed task's result holds (tasks finished by older versions have only one)."""
    blurred, mean = task.result.get("blurred_delta_e2000"), task.result.get("mean_delta_e2000")
    if task.status is not Status.COMPLETED or not (_finite(blurred) and _finite(mean)):
        return None  # not done, done by an older version, or a picture of air: nothing measured
    return Quality(blurredDeltaE2000=blurred, meanDeltaE2000=mean, explanation=engine_quality.EXPLANATION)


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, float | int) and math.isfinite(value)


class StartResponse(TaskResponse):
    """``POST /conversion/start``'s answer: the task, and the key that proves who owns it."""

    ownerKey: str = Field(
        description="send it back as the X-Pixeletica-Owner header (browsers keep it as a cookie) to see or "
        "delete the task where the server keeps tasks private"
    )


class FileInfo(BaseModel):
    """A generated file."""

    fileId: str
    filename: str
    type: str
    size: int

    @classmethod
    def of(cls, artifact: Artifact) -> FileInfo:
        return cls(fileId=artifact.file_id, filename=artifact.filename, type=artifact.media_type, size=artifact.size)


class FileListResponse(BaseModel):
    """Files of a task grouped by category."""

    taskId: str
    categories: dict[str, Any]


#: Categories that hold one file (the others hold lists), as the reference groups them.
SINGLE = ("input", "dithered", "schematic", "task_zip")


def group_files(artifacts: list[Artifact], category: str | None = None) -> dict[str, Any]:
    """Files by category as the reference lists them: one file for each :data:`SINGLE` category, lists by
    kind where a category has a part after ``/`` (``rendered/<lines>``, ``maps/<map>``,
    ``map_files/<folder in a save>``), a list for any other; only ``category``'s when it is given."""
    groups: dict[str, Any] = {}
    for artifact in artifacts:
        if category and artifact.category.split("/", 1)[0] != category:
            continue
        info = FileInfo.of(artifact).model_dump()
        if artifact.category in SINGLE:
            groups.setdefault(artifact.category, info)
        elif "/" in artifact.category:  # rendered/<lines>, maps/<map>, map_files/<folder in a save>
            top, kind = artifact.category.split("/", 1)
            groups.setdefault(top, {}).setdefault(kind, []).append(info)
        else:
            groups.setdefault(artifact.category, []).append(info)
    return groups


class MessageResponse(BaseModel):
    message: str
    success: bool = True


class MapInfo(BaseModel):
    """A completed task that has a web map."""

    id: str
    name: str
    created: str
    thumbnail: str
    description: str | None = None
    width: int | None = None
    height: int | None = None


class MapListResponse(BaseModel):
    maps: list[MapInfo] = Field(default_factory=list)
