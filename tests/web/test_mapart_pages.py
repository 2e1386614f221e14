"""Map art in the web pages, in a real headless Chromium against a real `pixeletica serve`: the conversion
page's map-art section from its options to a completed task, and the map viewer of map art.

Screenshots go where :mod:`tests.web.test_pages` puts them.
"""

from __future__ import annotations

import json
import re

import pytest

from ..api.conftest import TOKEN, running_server
from ..servers import wait_for
from ..tasks.conftest import fast_settings
from .test_pages import SAMPLES, shot

pytestmark = pytest.mark.browser

#: What the page is asked to make: 2 x 1 maps, a staircase of at most 6 levels, without snow, dirt shown by dirt.
MAX_HEIGHT = 6
EXCLUDED = "SNOW"
CHANGED = ("DIRT", "minecraft:dirt")  # default: coarse dirt
#: Keeps the metadata of every preview the page asks for (the request's body is a multipart form with the image).
_RECORD_PREVIEWS = """
window.previewsAsked = [];
const fetched = window.fetch;
window.fetch = (url, init) => {
  if (String(url).endsWith("/preview") && init && init.body instanceof FormData) {
    window.previewsAsked.push(init.body.get("metadata"));
  }
  return fetched(url, init);
};
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`pixeletica serve` with one local worker."""
    folder = tmp_path_factory.mktemp("web-mapart")
    settings = fast_settings(folder / "data", admin_token=TOKEN, preview_rate_limit="off")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 1, "--no-monitor") as server:
        yield server


@pytest.fixture(scope="module")
def map_art_task(site, browser):
    """A staircase map art asked for through the conversion page, completed: its id (the page's steps are asserted
    in :func:`test_the_conversion_page_makes_map_art_with_its_options`, which uses it)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(_RECORD_PREVIEWS)
    page.goto(site.url + "/")
    page.wait_for_selector("#map-blocks select", state="attached")  # the map-art options arrived
    assert page.locator("#map-art-options").is_hidden() and page.input_value("#map_art") == ""  # off by default
    assert page.input_value("#origin_x") == "0"
    page.set_input_files("#image", str(SAMPLES / "coffee.jpg"))
    page.wait_for_selector("#preview:not([hidden])", timeout=30_000)  # a normal preview first

    page.select_option("#map_art", "staircase")
    assert page.locator("#map-art-options").is_visible() and page.locator("#max_height").is_visible()
    assert page.input_value("#origin_x") == page.input_value("#origin_z") == "-64"  # on a map's edge
    assert page.locator("#width").is_disabled() and page.locator("#height").is_disabled()  # the maps set the size
    page.fill("#maps_across", "2")
    page.fill("#maps_down", "1")
    page.fill("#max_height", str(MAX_HEIGHT))
    page.click("summary:has-text('Colours to use')")
    page.uncheck(f"input[name=map-colour][value={EXCLUDED}]")  # by its label: the swatch's name
    page.wait_for_function("document.getElementById('preview').naturalWidth === 256", timeout=60_000)
    assert page.evaluate("document.getElementById('preview').naturalHeight") == 128
    assert "2 x 1 maps, 256 x 128 blocks" in page.locator("#preview-status").inner_text()
    before = page.get_attribute("#preview", "src")
    page.click("summary:has-text('Block for each colour')")
    colour, block = CHANGED
    page.select_option(f"#map-block-{colour}", block)
    page.wait_for_function(f"document.getElementById('preview').src !== {json.dumps(before)}", timeout=60_000)
    page.wait_for_function("document.getElementById('preview').naturalWidth === 256", timeout=60_000)
    asked = json.loads(page.evaluate("window.previewsAsked.at(-1)"))
    assert asked["map_art"] == "staircase" and asked["maps"] == "2x1" and asked["max_height"] == MAX_HEIGHT
    assert asked["exclude_colours"] == [EXCLUDED] and asked["map_blocks"] == {colour: block}  # only the one changed
    assert "width" not in asked
    shot(page, "convert-page-map-art")

    # A height no staircase can keep: the server's sentence, next to the field; nothing is started.
    page.fill("#max_height", "1")
    page.click("#submit")
    page.wait_for_selector("#err-max_height:not(:empty)")
    assert "a staircase needs at least 2 levels" in page.locator("#err-max_height").inner_text()
    assert page.get_attribute("#max_height", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "max_height"
    assert page.url.rstrip("/") == site.url
    shot(page, "convert-page-map-art-error")

    page.fill("#max_height", str(MAX_HEIGHT))
    page.click("#submit")
    page.wait_for_url("**/task/*", timeout=30_000)
    task_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#results:not([hidden])", timeout=240_000)
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].some(i => i.complete && i.naturalWidth === 256)"
    )
    assert page.locator("#map").get_attribute("src") == f"/map/{task_id}"
    shot(page, "task-page-map-art")
    page.close()
    return task_id


def test_the_conversion_page_makes_map_art_with_its_options(site, map_art_task):
    task = site.store.get(map_art_task)
    assert task.status.value == "completed"
    art = task.settings["map_art"]
    assert (art["kind"], art["maps"], art["max_height"]) == ("staircase", "2x1", MAX_HEIGHT)
    assert art["exclude"] == [EXCLUDED] and art["blocks"] == dict([CHANGED])
    assert task.result["map_art"] == "staircase" and task.result["levels"] <= MAX_HEIGHT
    files = site.client.get(f"/api/conversion/{map_art_task}/files").json()["categories"]
    assert [f["fileId"] for f in files["map_preview"]] == ["map_preview"]
    assert set(files["maps"]) == {"r1c1", "r1c2"} and "world/data" in files["map_files"]
    materials = site.client.get(f"/api/conversion/{map_art_task}/files/materials_csv").text
    assert "minecraft:coarse_dirt" not in materials and "minecraft:snow_block" not in materials


def test_the_viewer_of_map_art_draws_the_map_borders_and_each_block_s_level(site, browser, map_art_task):
    blockdata = site.client.get(f"/api/map/{map_art_task}/blockdata.json").json()
    meta = site.client.get(f"/api/map/{map_art_task}/metadata.json").json()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site.url}/map/{map_art_task}")
    page.wait_for_function("window.pixeleticaMap && window.pixeleticaMap.borders")
    assert page.evaluate("pixeleticaMap.map.hasLayer(pixeleticaMap.borders)")
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [label.strip() for label in labels] == ["Chunk grid", "Map borders"]
    assert "map art, staircase, 2 × 1 maps" in page.locator("#title").inner_text()
    # the border between the two maps is drawn: gold pixels on the overlay's tiles
    page.wait_for_function("document.querySelectorAll('.map-borders canvas').length > 0")
    gold = page.evaluate(
        """[...document.querySelectorAll('.map-borders canvas')].reduce((n, c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) n += d[i] > 200 && d[i + 1] > 150 && d[i + 2] < 80 && d[i + 3] > 0;
            return n;
        }, 0)"""
    )
    assert gold > 100
    for row, col in ((40, 200), (100, 17)):
        point = page.evaluate(
            """([row, col]) => {
                const m = pixeleticaMap, s = m.scale;
                const p = m.map.latLngToContainerPoint(m.map.unproject([(col + 0.5) * s, (row + 0.5) * s], m.zoom));
                return [p.x, p.y];
            }""",
            [row, col],
        )
        page.mouse.move(*point)
        level = blockdata["heights"][row][col]
        block = blockdata["blocks"][blockdata["matrix"][row][col]]
        expected = (
            f"{block['name']} ({block['minecraft_id']}), level {level} (y {meta['origin_y'] + level}) "
            f"at x {-64 + col}, z {-64 + row}"
        )
        page.wait_for_function(f"document.getElementById('info').textContent === {json.dumps(expected)}")
    assert re.search(r", (dark|normal|light) shade \(", page.locator("#info").inner_text())
    shot(page, "viewer-map-art")
    page.close()


def test_a_block_picture_s_viewer_is_unchanged(site, browser):
    answer = site.client.post(
        "/api/conversion/start",
        files={"image_file": ("chelsea.jpg", (SAMPLES / "chelsea.jpg").read_bytes(), "image/jpeg")},
        data={"metadata": json.dumps({"width": 24})},
    )
    task_id = answer.json()["taskId"]
    wait_for(lambda: site.store.get(task_id).status.value == "completed", 120, "the block picture")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site.url}/map/{task_id}")
    page.wait_for_function("window.pixeleticaMap")
    assert page.evaluate("pixeleticaMap.borders") is None
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [label.strip() for label in labels] == ["Chunk grid"]
    point = page.evaluate(
        """() => { const m = pixeleticaMap;
            const p = m.map.latLngToContainerPoint(m.map.unproject([5.5 * m.scale, 3.5 * m.scale], m.zoom));
            return [p.x, p.y]; }"""
    )
    page.mouse.move(*point)
    page.wait_for_function("/^minecraft:\\S+ at x 5, z 3$/.test(document.getElementById('info').textContent)")
    page.close()


def test_the_map_art_section_fits_a_narrow_screen_and_labels_every_control(site, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(site.url + "/")
    page.wait_for_selector("#map-blocks select", state="attached")
    page.select_option("#map_art", "flat")
    assert page.locator("#max_height").is_hidden()  # staircase only
    page.click("summary:has-text('Colours to use')")
    page.click("summary:has-text('Block for each colour')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    unlabeled = page.evaluate(
        """[...document.querySelectorAll('#map-art input, #map-art select')].filter(e => !e.closest('[hidden]'))
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.value)"""
    )
    assert unlabeled == []
    # the keyboard alone: a colour left out with the space bar
    page.focus("input[name=map-colour][value=GRASS]")
    page.keyboard.press("Space")
    assert not page.is_checked("input[name=map-colour][value=GRASS]")
    shot(page, "narrow-convert-map-art")
    page.select_option("#map_art", "")
    assert page.locator("#map-art-options").is_hidden() and page.input_value("#origin_x") == "0"
    context.close()
