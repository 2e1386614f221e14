"""The web pages in a real headless Chromium (Debian's) against a real `pixeletica serve`.

Screenshots of every page are saved under ``test-artifacts/screenshots/`` (or
``$PIXELETICA_TEST_ARTIFACTS/screenshots``) for people to look at.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from ..api.conftest import TOKEN, running_server
from ..servers import wait_for
from ..tasks.conftest import fast_settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SHOTS = Path(os.environ.get("PIXELETICA_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`pixeletica serve` with one local worker and no monitor (so a task left by a killed worker stays stuck)."""
    settings = fast_settings(tmp_path_factory.mktemp("web") / "data", admin_token=TOKEN, preview_rate_limit="off")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 1, "--no-monitor") as server:
        yield server


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_convert_a_photograph_see_progress_results_and_download_the_zip(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(site.url + "/")
    page.wait_for_selector("#algorithm option", state="attached")  # the options arrived
    page.set_input_files("#image", str(SAMPLES / "coffee.jpg"))
    width, height = Image.open(SAMPLES / "coffee.jpg").size
    page.wait_for_function(f"document.getElementById('image-info').textContent.includes('{width} x {height} px')")
    page.fill("#width", "48")
    page.dispatch_event("#width", "input")
    assert page.input_value("#height") == str(round(48 * height / width))  # aspect ratio kept
    page.select_option("#algorithm", "atkinson")
    page.click("summary")  # "More options"
    page.select_option("#face", "top")
    page.check("#serpentine")
    page.check("#generate_schematic")
    page.uncheck("input[name=format][value=nbt]")  # no structure-block pieces
    page.wait_for_function("document.getElementById('preview').naturalWidth === 48", timeout=30_000)
    assert "48 x" in page.locator("#preview-status").inner_text()
    shot(page, "convert-page")
    page.click("#submit")
    page.wait_for_url("**/task/*", timeout=30_000)
    task_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#results:not([hidden])", timeout=120_000)
    assert page.locator("#percent").inner_text() == "100 %"
    assert page.locator("#progress").get_attribute("value") == "100"
    assert page.locator("#gallery img").count() >= 2  # the dithered picture and the chunk-lines render
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    rows = page.locator("#materials tbody tr")
    assert rows.count() > 3
    counted = sum(int(rows.nth(i).locator("td").nth(1).inner_text().replace(",", "")) for i in range(rows.count()))
    stored = site.store.get(task_id)
    assert counted == stored.result["width"] * stored.result["height"] - stored.result["air"]
    assert stored.settings["algorithm"] == "atkinson" and stored.settings["exports"]["generate_schematic"]
    assert stored.settings["face"] == "top" and stored.settings["serpentine"] is True
    assert page.locator("#downloads a", has_text="coffee.litematic").count() == 1
    assert page.locator("#downloads a", has_text=".nbt").count() == 0
    assert stored.settings["exports"]["schematic_formats"] == ["litematic", "schem", "mcfunction"]
    with page.expect_download() as download:
        page.click("#download-zip")
    path = tmp_path / "all.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert any(n.endswith("coffee_dithered.png") for n in names) and any(n.endswith(".litematic") for n in names)
    assert page.locator("#map").get_attribute("src") == f"/map/{task_id}"
    shot(page, "task-page")
    page.close()


def test_an_error_from_the_api_is_shown_next_to_its_field(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site.url + "/")
    page.wait_for_selector("#algorithm option", state="attached")
    # dropped on the drop zone, as a file dragged from the desktop
    page.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "chelsea.jpg", { type: "image/jpeg" }));
            document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
        }""",
        base64.b64encode((SAMPLES / "chelsea.jpg").read_bytes()).decode(),
    )
    page.wait_for_function("document.getElementById('image-info').textContent.includes('chelsea.jpg')")
    page.fill("#width", "8")
    page.dispatch_event("#width", "input")
    page.fill("#image_division", "5000")
    page.click("#submit")
    page.wait_for_selector("#err-image_division:not(:empty)")
    assert "part" in page.locator("#err-image_division").inner_text()
    assert page.locator("#image_division").get_attribute("aria-invalid") == "true"
    assert page.url.rstrip("/") == site.url  # nothing was submitted
    shot(page, "convert-page-error")
    page.fill("#image_division", "1")
    page.click("summary")  # "More options"
    page.fill("#strength", "5")
    page.click("#submit")
    page.wait_for_selector("#err-options:not(:empty)")
    assert "strength must be between 0 and 1" in page.locator("#err-options").inner_text()
    assert page.locator("#err-image_division").inner_text() == ""  # the old error went away
    page.close()


def test_the_form_starts_at_the_server_s_defaults(site, browser):
    options = site.client.get("/api/options").json()
    given, exported = options["conversion_defaults"], options["export_defaults"]
    page = browser.new_page()
    page.goto(site.url + "/")
    page.wait_for_selector("#priority option", state="attached")  # the last select the options fill
    assert [page.input_value(f"#{s}") for s in ("resample", "face", "facing", "priority")] == [
        given["resample"],
        given["face"],
        options["default_facing"],
        options["default_priority"],
    ]
    assert page.locator("#resample option").count() == len(options["resamplings"])
    assert float(page.input_value("#strength")) == given["strength"]
    assert int(page.input_value("#alpha_threshold")) == given["alpha_threshold"]
    assert page.is_checked("#survival_only") == given["survival_only"]
    assert int(page.input_value("#origin_y")) == exported["origin_y"]
    assert page.input_value("#chunk_line_color") == exported["chunk_line_color"][:7].lower()
    page.close()


def sign_in(page, url: str, token: str) -> None:
    page.goto(url + "/admin")
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#token", token)
    page.press("#token", "Enter")  # the keyboard is enough


def confirm(page) -> None:
    page.wait_for_selector("dialog[open]")
    page.click("dialog[open] button[value=ok]")


def test_a_wrong_token_is_refused(site, browser):
    page = browser.new_page()
    sign_in(page, site.url, "not-the-token")
    page.wait_for_selector("#err-token:not(:empty)")
    assert page.locator("#err-token").inner_text() == "That is not the admin token."
    assert page.locator("#dash").is_hidden()
    assert page.evaluate("fetch('/api/tasks').then(r => r.status)") == 401
    shot(page, "dashboard-sign-in-refused")
    page.close()


def test_dashboard_reset_a_stuck_task_then_retry_it_to_completion(site, browser):
    # A task stuck in processing: its worker is killed mid-conversion and no monitor runs.
    answer = site.client.post(
        "/api/conversion/start",
        files={"image_file": ("astronaut.jpg", (SAMPLES / "astronaut.jpg").read_bytes(), "image/jpeg")},
        data={"metadata": json.dumps({"width": 300, "metric": "ciede2000", "dithering_algorithm": "optimise"})},
    )
    task_id = answer.json()["taskId"]
    task = wait_for(lambda: (t := site.store.get(task_id)).worker_id and t.progress > 0 and t, 120, "the slow task")
    os.kill(int(task.worker_id.rsplit(":", 1)[1]), signal.SIGKILL)

    page = browser.new_page(viewport={"width": 1366, "height": 1000})
    sign_in(page, site.url, TOKEN)
    page.wait_for_selector("#dash:not([hidden])")
    assert TOKEN not in page.url and TOKEN not in page.evaluate("document.cookie")  # HttpOnly, never in the address
    page.select_option("#f-status", "processing")
    page.wait_for_selector(f"#tasks tbody tr[data-id='{task_id}']")
    page.wait_for_function("document.querySelector('#chart-throughput').width > 0")
    shot(page, "dashboard")
    page.fill("#stuck-time", "0")
    page.click("#reset-stuck")
    confirm(page)
    page.wait_for_selector("#result:not(:empty)")
    assert "1 stuck task(s) marked failed" in page.locator("#result").inner_text()
    assert site.store.get(task_id).status.value == "failed"

    page.select_option("#f-status", "failed")
    row = page.locator(f"#tasks tbody tr[data-id='{task_id}']")
    row.wait_for()
    row.locator("button").click()
    page.wait_for_selector("#detail:not([hidden])")
    page.wait_for_function(f"document.querySelector('#detail-fields').textContent.includes('{task_id}')")
    reason = "processing took longer than 0 seconds; marked failed by reset-stuck (api)"
    assert reason in page.locator("#detail-error").inner_text()
    assert page.locator("#detail-events li").count() >= 3  # new -> queued, queued -> processing, -> failed
    shot(page, "dashboard-task-detail")
    page.click("#detail-actions button:has-text('Retry')")
    confirm(page)
    page.wait_for_selector("#detail-result:has-text('Queued again.')")
    # live updates: the detail shows it completing without a reload
    page.wait_for_selector("#detail-title .badge.completed", timeout=180_000)
    assert site.store.get(task_id).status.value == "completed"
    page.select_option("#f-status", "")
    page.fill("#f-search", task_id[:8])
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr[data-id]').length === 1")
    assert page.locator(f"#tasks tbody tr[data-id='{task_id}'] .badge").inner_text() == "completed"
    shot(page, "dashboard-after-retry")
    page.click("#detail-actions button:has-text('Delete')")
    confirm(page)
    page.wait_for_selector(f"#result:has-text('Task {task_id[:8]} deleted.')")
    assert page.locator("#detail").is_hidden()
    page.wait_for_selector("#tasks tbody tr[data-id]", state="detached")
    assert site.client.get(f"/api/conversion/{task_id}").status_code == 404
    page.close()


@pytest.mark.parametrize("path", ["/", "/admin"])
def test_pages_fit_a_360_pixel_wide_screen(site, browser, path):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    if path == "/admin":
        sign_in(page, site.url, TOKEN)
        page.wait_for_selector("#dash:not([hidden])")
    else:
        page.goto(site.url + path)
        page.wait_for_selector("#algorithm option", state="attached")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # every form control has a label a screen reader can read
    unlabeled = page.evaluate(
        """[...document.querySelectorAll('input, select')].filter(e => e.type !== 'hidden' && !e.closest('[hidden]'))
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.name)"""
    )
    assert unlabeled == []
    shot(page, "narrow-convert" if path == "/" else "narrow-admin")
    context.close()
