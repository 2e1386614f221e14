"""Running tasks: completion with files, failures classified, transient errors retried, no double runs."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.errors import InvalidInput, UnsupportedImage
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import ErrorCode, Priority, Status
from pixeletica.tasks.runner import Runner
from pixeletica.tasks.schema import tasks

from .conftest import SAMPLES, submit


def test_a_task_runs_to_completion_with_its_files(store, settings, runner):
    task = submit(store, settings, algorithm="atkinson")
    done = runner.run_next()
    assert done.id == task.id and done.status == Status.COMPLETED and done.progress == 100
    assert done.result["width"] == 12 and done.result["mean_delta_e2000"] > 0
    recorded = {a.file_id: a for a in store.artifacts(task.id)}
    assert set(recorded) == {
        "input_coffee.jpg", "dithered_image", "block_grid", "materials_csv", "materials_json", "materials_txt",
        "coffee_task.zip",
    }  # fmt: skip
    for artifact in recorded.values():
        data = (settings.tasks_dir / artifact.path).read_bytes()
        assert len(data) == artifact.size and hashlib.sha256(data).hexdigest() == artifact.sha256
    grid = BlockGrid.from_npz((settings.tasks_dir / recorded["block_grid"].path).read_bytes())
    assert grid.width == 12 and grid.meta["algorithm"] == "atkinson"
    with Image.open(settings.tasks_dir / recorded["dithered_image"].path) as im:
        assert im.size == (12, 8)
    history = [(e.from_status, e.to_status) for e in store.events(task.id)]
    assert history == [(None, "queued"), ("queued", "processing"), ("processing", "completed")]
    assert runner.run_next() is None


def test_submit_refuses_bad_input_and_stores_nothing(store, settings):
    with pytest.raises(UnsupportedImage, match="not an image"):
        operations.submit(
            store, settings.tasks_dir, data=b"hello", filename="a.png", settings=ConversionSettings.from_dict({})
        )
    with pytest.raises(InvalidInput, match="unknown dithering algorithm"):
        operations.submit(
            store, settings.tasks_dir, data=(SAMPLES / "coffee.jpg").read_bytes(), filename="c.jpg",
            settings=ConversionSettings.from_dict({"algorithm": "sparkle"}),
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="unknown conversion setting"):
        operations.submit(
            store, settings.tasks_dir, data=(SAMPLES / "coffee.jpg").read_bytes(), filename="c.jpg",
            settings=ConversionSettings.from_dict({"colour": "red"}),
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="more parts than"):  # what depends on the image's size: checked here
        operations.submit(
            store, settings.tasks_dir, data=(SAMPLES / "coffee.jpg").read_bytes(), filename="c.jpg",
            settings=ConversionSettings.from_dict({"width": 8, "exports": {"image_division": 100}}),
        )  # fmt: skip
    assert store.count() == 0
    assert not settings.tasks_dir.exists() or not any(settings.tasks_dir.iterdir())


def test_corrupt_input_fails_at_once_without_retry(store, settings, runner):
    data = (SAMPLES / "coffee.jpg").read_bytes()
    with pytest.raises(UnsupportedImage, match="truncated"):  # a file cut short is refused at submission
        operations.submit(
            store,
            settings.tasks_dir,
            data=data[:3000],
            filename="cut.jpg",
            settings=ConversionSettings.from_dict({"width": 8}),
        )
    assert store.count() == 0
    task = operations.submit(
        store, settings.tasks_dir, data=data, filename="cut.jpg", settings=ConversionSettings.from_dict({"width": 8})
    )
    files.input_path(settings.tasks_dir, task.id, task.input_name).write_bytes(data[:3000])  # spoilt on disk
    done = runner.run_next()
    assert done.status == Status.FAILED and done.attempt == 1
    assert done.error_code == ErrorCode.UNSUPPORTED_IMAGE and "truncated or corrupt" in done.error
    assert runner.run_next() is None
    assert not files.attempt_dir(settings.tasks_dir, task.id, 1).exists()


def test_an_unexpected_error_fails_the_task_with_its_message(store, settings, runner):
    task = submit(store, settings)
    with store.engine.begin() as c:  # settings a newer version might have written, that this one cannot read
        c.execute(sa.update(tasks).values(settings=json.dumps({"width": "wide"})))
    done = runner.run_next()
    assert done.status == Status.FAILED and done.error_code == ErrorCode.INTERNAL
    assert done.error.startswith("an internal error") and "TypeError" not in done.error  # a sentence for anyone
    assert "Traceback" in done.traceback and "TypeError" in done.traceback  # the details, for operators
    assert "TypeError" in store.events(task.id)[-1].message
    assert store.get(task.id).status == Status.FAILED


@pytest.mark.slow
def test_transient_errors_are_retried_with_backoff_then_complete(store, settings, runner):
    task = submit(store, settings)
    blocker = files.attempt_dir(settings.tasks_dir, task.id, 1)
    blocker.write_text("a file where the attempt folder should go")  # a real I/O error on attempt 1
    first = runner.run_next()
    assert first.status == Status.QUEUED and first.error_code == ErrorCode.TRANSIENT
    assert first.not_before is not None and first.not_before > first.updated_at
    blocker.unlink()
    deadline = time.monotonic() + 5
    while (done := runner.run_next()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done.status == Status.COMPLETED and done.attempt == 2
    assert [e.to_status for e in store.events(task.id)] == ["queued", "processing", "queued", "processing", "completed"]


@pytest.mark.slow
def test_transient_errors_give_up_after_max_attempts(store, settings, runner):
    task = submit(store, settings)
    for attempt in (1, 2, 3):
        files.task_dir(settings.tasks_dir, task.id).mkdir(parents=True, exist_ok=True)
        files.attempt_dir(settings.tasks_dir, task.id, attempt).write_text("in the way")
    deadline = time.monotonic() + 10
    while store.get(task.id).status != Status.FAILED and time.monotonic() < deadline:
        runner.run_next() or time.sleep(0.05)
    done = store.get(task.id)
    assert done.status == Status.FAILED and done.attempt == 3
    assert done.error_code == ErrorCode.RETRIES_EXHAUSTED and done.error.startswith("gave up after 3 attempts")


def test_a_second_delivery_does_nothing(store, settings, runner):
    task = submit(store, settings)
    assert runner.run_task(task.id).status == Status.COMPLETED
    events = store.events(task.id)
    assert runner.run_task(task.id) is None
    assert store.events(task.id) == events


def test_a_worker_that_lost_its_task_keeps_no_results(store, settings):
    task = submit(store, settings)
    slow = dataclasses.replace(
        Runner.from_settings(store, settings, worker_id="old:1"), lease_seconds=0.01, heartbeat_seconds=60
    )
    claimed = store.claim(slow.worker_id, 0.01)
    time.sleep(0.05)
    # The monitor re-queues it and another worker finishes it first.
    store.transition(claimed, Status.QUEUED, actor="monitor", message="worker lost")
    fresh = Runner.from_settings(store, settings, worker_id="new:2")
    assert fresh.run_next().status == Status.COMPLETED
    # The old worker now finishes its run of attempt 1: its completion must not apply.
    after = slow.execute(claimed)
    assert after.status == Status.COMPLETED and after.attempt == 2
    assert not files.attempt_dir(settings.tasks_dir, task.id, 1).exists()
    paths = {a.path for a in store.artifacts(task.id) if a.category != "input"}
    assert all("/attempt-2/" in p for p in paths)


def test_priorities_and_transparent_images(store, settings, runner):
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[2:8, 2:8] = (200, 40, 40, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    low = operations.submit(
        store, settings.tasks_dir, data=buf.getvalue(), filename="low.png", settings=ConversionSettings.from_dict({})
    )
    high = operations.submit(
        store,
        settings.tasks_dir,
        data=buf.getvalue(),
        filename="high.png",
        settings=ConversionSettings.from_dict({}),
        priority=Priority.HIGH,
    )
    assert runner.run_next().id == high.id
    done = runner.run_next()
    assert done.id == low.id and done.result["air"] == 100 - 36


HOSTILE_NAME = "../../\x1b[31m/evil\u202e" + "n" * 300 + "\x00tail"


def test_hostile_schematic_names_reach_no_path_zip_entry_or_column_unclean(store, settings, runner):
    """On both stores: a name of 300+ characters with NUL, escapes and slashes completes, cleaned."""
    exports = {
        "generate_schematic": True,
        "schematic_name": HOSTILE_NAME,
        "schematic_author": "\x00" * 10 + "me",
        "schematic_description": "line\nbreak\x1b",
        "line_visibilities": [],
    }
    task = submit(store, settings, exports=exports)
    done = runner.run_next()
    assert done.status == Status.COMPLETED, (done.error, done.traceback)
    for artifact in store.artifacts(task.id):
        for text in (artifact.file_id, artifact.filename):
            assert len(text) <= 100 and all(c.isalnum() or c in "._-" for c in text), text
        assert (settings.tasks_dir / artifact.path).resolve().is_relative_to(settings.tasks_dir.resolve())
    task_zip = next(a for a in store.artifacts(task.id) if a.category == "task_zip")
    import zipfile

    entries = zipfile.ZipFile(settings.tasks_dir / task_zip.path).namelist()
    assert entries and all(".." not in e and "\x1b" not in e and "\x00" not in e for e in entries)
    kept = done.settings["exports"]
    assert kept["schematic_author"] == "me" and kept["schematic_description"] == "line break"
