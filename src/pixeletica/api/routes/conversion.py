"""The compatible conversion endpoints: start, status, files, downloads, delete, preview."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixeletica import names
from pixeletica.api import access, deps, metadata, paths, previews, responses, zipstream
from pixeletica.api.bounded_store import StoreSilent
from pixeletica.api.client_limits import limited, limited_preview
from pixeletica.api.deps import AppState, state
from pixeletica.engine import defaults
from pixeletica.errors import NotFound
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import Artifact, Task

router = APIRouter(prefix="/conversion", tags=["conversion"])
State = Annotated[AppState, Depends(state)]


def _read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, read in this thread (413 beyond ``limit``)."""
    return _within(upload.file.read(limit + 1), limit)


async def _read_upload_async(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, read without blocking the event loop (413 beyond ``limit``)."""
    return _within(await upload.read(limit + 1), limit)


def _within(data: bytes, limit: int) -> bytes:
    if len(data) > limit:
        raise HTTPException(413, f"Image size exceeds maximum limit of {limit / (1024 * 1024):g}MB")
    return data


def _artifact_file(app: AppState, artifact: Artifact) -> Path:
    return paths.contained(app.settings.tasks_dir, artifact.path, f"File {artifact.file_id}")


@router.post(
    "/start",
    status_code=202,
    response_model=responses.StartResponse,
    summary="Start Conversion",
    dependencies=[Depends(limited)],
)
async def start(
    app: State,
    request: Request,
    response: Response,
    image_file: Annotated[UploadFile, File(description="Image file to convert")],
    metadata_json: Annotated[str, Form(alias="metadata", description="JSON string with the conversion settings")],
) -> responses.StartResponse:
    """Store the image and its settings as a queued task; answers 202 with the task id and its owner key.

    Storing the task runs off the event loop, bounded in time (503 when the store is silent).
    """
    access.refuse_cross_site(request, app.settings.allowed_origins)
    asked = metadata.parse(
        metadata_json, max_size=app.settings.max_size, max_input_pixels=app.settings.max_input_pixels
    )
    data = await _read_upload_async(image_file, app.settings.max_upload_size)
    key = access.owner_key_for(request, response)
    task = await deps.submit_in_thread(
        app,
        operations.submit,
        app.settings.tasks_dir,
        data=data,
        filename=image_file.filename or "upload",
        settings=asked.settings,
        priority=asked.priority,
        max_attempts=app.settings.max_attempts,
        actor="api",
        owner=access.digest(key),
        public=app.settings.public_gallery if asked.public is None else asked.public,
    )
    app.queued.set()
    return responses.StartResponse(**responses.TaskResponse.of(task).model_dump(), ownerKey=key)


@router.get("/{task_id}", response_model=responses.TaskResponse, summary="Get Conversion Status")
async def status(request: Request, task_id: str) -> Response:
    """The task's status, progress and error.

    The hottest endpoint (clients poll it): one indexed read (and, for an operator's cookie, one
    more), in a thread and within PIXELETICA_STORE_TIMEOUT, and the JSON written directly.
    """
    task = await deps.in_thread(deps.visible_task, request, task_id)
    body = responses.TaskResponse.of(task).model_dump_json()
    return Response(body, media_type="application/json")


_EVENT_POLL = 0.25  # seconds between looks at the store while streaming
_KEEPALIVE = 15.0


@router.get(
    "/{task_id}/events",
    summary="Live progress (Server-Sent Events)",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(app: State, request: Request, task_id: str) -> StreamingResponse:
    """Progress as Server-Sent Events: a `progress` event on every change, `end` when the task finishes."""
    task = await run_in_threadpool(deps.visible_task, request, task_id)
    slots = request.app.state.event_streams
    slots.check(request)  # 429/503 when too many are open

    async def stream() -> AsyncIterator[str]:
        with slots.slot(request):  # given back however the stream ends (finished, deleted, client gone)
            async for event in _progress(app, task_id, task):
                yield event

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def _progress(app: AppState, task_id: str, task: Task) -> AsyncIterator[str]:
    """The events of one task's progress stream, until it finishes or is deleted."""
    last: dict | None = None
    quiet = 0.0
    current = task
    while True:
        body = responses.TaskResponse.of(current).model_dump()
        if body != last:
            last = body
            quiet = 0.0
            yield f"event: progress\ndata: {json.dumps(body)}\n\n"
        if current.finished:
            yield f"event: end\ndata: {json.dumps(body)}\n\n"
            return
        await asyncio.sleep(_EVENT_POLL)
        quiet += _EVENT_POLL
        if quiet >= _KEEPALIVE:
            quiet = 0.0
            yield ": keep-alive\n\n"
        try:
            current = await run_in_threadpool(app.store.get, task_id)
        except StoreSilent:  # the database is silent for now: the stream waits with it
            continue
        except NotFound:
            yield f"event: end\ndata: {json.dumps({'taskId': task_id, 'status': 'deleted'})}\n\n"
            return


@router.delete("/{task_id}", response_model=responses.MessageResponse, summary="Delete Task")
def delete(app: State, request: Request, task_id: str) -> responses.MessageResponse:
    """Delete a task and its files (its owner or an operator; anyone on an open server)."""
    task = deps.visible_task(request, task_id)
    # As a whole (it sets the files aside, then deletes the record or puts them back): see bounded_store.
    if not app.store_calls.run(operations.delete, app.settings.tasks_dir, task):
        again = deps.visible_task(request, task_id)  # it changed meanwhile: once more, as it is now
        app.store_calls.run(operations.delete, app.settings.tasks_dir, again)
    return responses.MessageResponse(message=f"Task {task_id} deletion initiated", success=True)


@router.get("/{task_id}/files", response_model=responses.FileListResponse, summary="List Files")
def list_files(
    app: State, request: Request, task_id: str, include_web: bool = False, category: str | None = None
) -> responses.FileListResponse:
    """Files generated for a task, grouped by category."""
    task = deps.visible_task(request, task_id)
    groups = responses.group_files(app.store.artifacts(task.id), category)
    if not include_web:
        groups.pop("web", None)
    return responses.FileListResponse(taskId=task.id, categories=groups)


@router.options("/{task_id}/files", include_in_schema=True, summary="Options List Files")
def options_files(task_id: str) -> dict:
    return {}


@router.get("/{task_id}/files/{file_id}", summary="Download a specific file", operation_id="downloadFile")
def download_file(app: State, request: Request, task_id: str, file_id: str) -> FileResponse:
    """One file of a task."""
    task = deps.visible_task(request, task_id)
    artifact = app.store.artifact(task.id, file_id)
    if artifact is None:
        raise HTTPException(404, f"File not found: {file_id}")
    return FileResponse(_artifact_file(app, artifact), media_type=artifact.media_type, filename=artifact.filename)


@router.options("/{task_id}/files/{file_id}", summary="Options Download File")
def options_file(task_id: str, file_id: str) -> dict:
    return {}


class SelectiveDownloadRequest(BaseModel):
    fileIds: list[str] = Field(max_length=10_000)


def _zip(app: AppState, task: Task, artifacts: list[Artifact]) -> StreamingResponse:
    """The files as one ZIP, streamed as it is made (folders by category, as in the task's own ZIP)."""
    entries = [(f"{a.category}/{a.filename}", _artifact_file(app, a)) for a in artifacts]
    stem = files.output_stem(task.input_name)
    headers = {"Content-Disposition": f'attachment; filename="{stem}_{task.id[:8]}.zip"'}
    return StreamingResponse(zipstream.stream(entries), media_type="application/zip", headers=headers)


@router.get("/{task_id}/download", summary="Download all task files", operation_id="downloadAllFiles")
def download_all(app: State, request: Request, task_id: str) -> StreamingResponse:
    """Every file of the task as one ZIP archive (its own ZIP of the results is not put inside again)."""
    task = deps.visible_task(request, task_id)
    artifacts = [a for a in app.store.artifacts(task.id) if a.category not in ("task_zip", "web")]
    if not artifacts:
        raise HTTPException(404, f"Task {task_id} has no files yet (status: {task.status.value})")
    return _zip(app, task, artifacts)


@router.post("/{task_id}/download", summary="Download selected task files")
def download_selected(app: State, request: Request, task_id: str, body: SelectiveDownloadRequest) -> StreamingResponse:
    """The chosen files of the task as one ZIP archive."""
    task = deps.visible_task(request, task_id)
    by_id = {a.file_id: a for a in app.store.artifacts(task.id)}
    missing = [f for f in body.fileIds if f not in by_id]
    if missing:
        shown = ", ".join(names.label(f, 80) for f in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise HTTPException(404, f"File not found: {shown}")
    if not body.fileIds:
        raise HTTPException(400, "fileIds is empty; name at least one file")
    return _zip(app, task, [by_id[f] for f in dict.fromkeys(body.fileIds)])


@router.options("/{task_id}/download", summary="Options Download All Files")
def options_download(task_id: str) -> dict:
    return {}


@router.post(
    "/preview",
    summary="Generate Quick Preview Image",
    responses={200: {"content": {"image/png": {}}}},
    dependencies=[Depends(limited_preview)],
)
def preview(
    app: State,
    request: Request,
    width: Annotated[int, Form(gt=0, description="Image width in pixels")],
    height: Annotated[int, Form(gt=0, description="Image height in pixels")],
    algorithm: Annotated[str, Form(description="Dithering algorithm to apply")] = defaults.DEFAULT_ALGORITHM,
    color_palette: Annotated[str, Form(description="Color palette to use for block mapping")] = (
        defaults.DEFAULT_COLOR_PALETTE
    ),
    image_file: Annotated[UploadFile | None, File(description="Image file to preview (optional)")] = None,
    metadata_json: Annotated[
        str | None,
        Form(alias="metadata", description="Optional: the start metadata, for its colour metric and palette filters"),
    ] = None,
) -> Response:
    """The dithered picture of an image at the given size, directly as a PNG, within a time limit.

    With ``map_art`` in the metadata, the map art's picture instead (exactly the colours the maps
    show), at its maps' size: ``width`` and ``height`` are not read then. The image is decoded at a
    reduced size and converted within the preview memory budget (see :mod:`pixeletica.api.previews`):
    never at full size in the API process.
    """
    from pixeletica.engine import conversion_settings, image_io

    settings = app.settings
    limits = {"max_size": settings.max_size, "max_input_pixels": settings.max_input_pixels}
    if metadata_json:  # the page previews with the metric and palette it will submit; all of it is checked
        parsed = metadata.parse(metadata_json, **limits).settings
    else:
        parsed = conversion_settings.ConversionSettings.from_dict(limits)
    plan = previews.PREVIEW
    if parsed.map_art is not None:
        width, height = parsed.map_art.size
        if width * height > settings.preview_max_pixels:
            raise HTTPException(
                400,
                f"metadata.maps {parsed.map_art.maps} is {width}x{height} blocks; previews are limited to "
                f"{settings.preview_max_pixels:,} blocks (PIXELETICA_PREVIEW_MAX_PIXELS): preview fewer maps, "
                "or start the conversion",
            )
        plan = dataclasses.replace(parsed.plan("preview"), grid_only=True)
    elif width * height > settings.preview_max_pixels:
        raise HTTPException(400, "Image dimensions too large for preview. Please reduce width and/or height.")
    conversion_settings.check_color_palette(color_palette)
    if image_file is not None and image_file.filename:
        data = _read_upload(image_file, settings.max_upload_size)
    else:
        data = _blank_png(width, height)
    options = dataclasses.replace(parsed.options, width=width, height=height, algorithm=algorithm)
    options.validated()  # the form's own size and algorithm
    made = request.app.state.previews.run(data, parsed.palette(), options, settings.max_input_pixels, plan)
    return Response(image_io.encode_png(made.picture()), media_type="image/png")


def _blank_png(width: int, height: int) -> bytes:
    """A white picture of the preview's size: what the original server previewed without an image."""
    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (width, height), (255, 255, 255)).save(blank, format="PNG")
    return blank.getvalue()
