"""The one conversion function: the files a plan asks for, the summary, and progress up to the files."""

from __future__ import annotations

import itertools

import pytest

from pixeletica.engine import conversion_settings as settings
from pixeletica.engine import palette, pipeline, production


@pytest.fixture(scope="module")
def image(photo_path) -> bytes:
    return photo_path.read_bytes()


def test_a_task_plan_gives_every_file_and_the_summary(image):
    raw = {"width": 32, "exports": {"generate_web_files": True, "generate_schematic": True}}
    task = settings.ConversionSettings.from_dict(raw)
    web: dict[str, bytes] = {}
    steps: list[tuple[float, str]] = []
    made = production.produce(
        image,
        task.palette(),
        task.options,
        task.plan("photo", "photo.jpg"),
        progress=lambda fraction, step: steps.append((fraction, step)),
        web=web.__setitem__,
    )
    ids = [o.file_id for o in made.outputs]
    assert ids[:2] == ["dithered_image", "block_grid"] and ids[-1] == "photo_task.zip"
    assert "rendered_no_lines" in ids and "web_metadata" in ids and "photo.litematic" in ids
    assert "metadata.json" in web and len(web) > 2
    assert made.summary["width"] == 32 and made.summary["render_scale"] == 16
    assert [s for _, s in steps][-3:] == ["rendering", "map tiles", "schematics"]
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(steps))


def test_a_plan_with_a_web_map_needs_somewhere_to_write_it(image):
    plan = production.Plan(stem="photo", web_map=True)
    with pytest.raises(ValueError, match="web map"):
        production.produce(image, palette.select(), pipeline.ConvertOptions(width=8), plan)
