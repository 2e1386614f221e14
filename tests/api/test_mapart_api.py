"""Map art through a real server: start a task, follow it, list and fetch its files, preview it, and the options."""

from __future__ import annotations

import io
import json
import zipfile

import amulet_nbt
import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import mapart

from .test_conversion_api import PHOTO, SAMPLES, start, wait_done

pytestmark = pytest.mark.slow


def _map_colours() -> np.ndarray:
    """(256, 3) the colour each map byte shows (``colour id * 4 + shade``)."""
    table = np.zeros((256, 3), dtype=np.uint8)
    for colour in mapart.map_colours():
        for shade in range(4):
            table[colour.id * 4 + shade] = colour.shade(shade)
    return table


def test_staircase_map_art_from_start_to_completed(server):
    photo = (SAMPLES / "coffee.jpg").read_bytes()
    metadata = {
        "map_art": "staircase", "maps": "2x1", "max_height": 6, "map_id": 5, "width": 999,  # width: not read
        "schematic_formats": ["litematic", "schem"], "game_version": "1.20.1", "origin_y": 64,
    }  # fmt: skip
    answer = start(server, photo, metadata)
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["taskId"]
    done = wait_done(server, task_id, timeout=300)
    assert done["status"] == "completed", done
    fidelity = done["quality"]
    assert 0 < fidelity["blurredDeltaE2000"] < fidelity["meanDeltaE2000"]

    categories = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]
    assert categories["input"]["filename"] == "coffee.jpg" and "dithered" not in categories
    assert (
        categories["schematic"]["fileId"] == "schematic" and categories["schematic"]["filename"] == "coffee.litematic"
    )
    assert [f["fileId"] for f in categories["map_preview"]] == ["map_preview"]
    assert set(categories["maps"]) == {"r1c1", "r1c2"}
    assert {f["fileId"] for f in categories["maps"]["r1c2"]} == {
        "map_preview_r1c2", "schematic_r1c2", "worldedit_r1c2", "materials_csv_r1c2", "materials_txt_r1c2",
    }  # fmt: skip
    world = categories["map_files"]["world/data"]
    assert [f["filename"] for f in world] == ["map_5.dat", "map_6.dat", "idcounts.dat"]
    with_web = server.client.get(f"/api/conversion/{task_id}/files", params={"include_web": True}).json()
    assert [f["fileId"] for f in with_web["categories"]["web"]] == ["web_metadata"] and "web" not in categories

    listed = [categories["input"], categories["schematic"], categories["task_zip"]]
    for name, group in categories.items():
        if isinstance(group, list):
            listed += group
        elif name in ("maps", "map_files"):
            listed += [f for files in group.values() for f in files]
    fetched = {}
    for info in listed:  # every file listed downloads, as listed
        got = server.client.get(f"/api/conversion/{task_id}/files/{info['fileId']}")
        assert got.status_code == 200 and len(got.content) == info["size"], info
        assert got.headers["content-type"].startswith(info["type"])
        fetched[info["fileId"]] = got.content

    preview = np.asarray(Image.open(io.BytesIO(fetched["map_preview"])).convert("RGBA"))
    assert preview.shape == (128, 256, 4) and (preview[..., 3] == 255).all()
    shows = _map_colours()
    for number, columns in ((5, slice(0, 128)), (6, slice(128, 256))):
        root = amulet_nbt.load(fetched[f"map_file_{number}"]).compound
        data = root["data"]
        colours = np.asarray(data["colors"]).astype(np.uint8).reshape(128, 128)
        assert np.array_equal(shows[colours], preview[:, columns, :3])  # the map file shows the preview
        assert int(data["locked"]) == 1 and int(root["DataVersion"]) == 3465
        assert (int(data["xCenter"]), int(data["zCenter"])) == (-64 + 64 + 128 * (number - 5), 0)
        assert set(np.unique(colours % 4)) <= {0, 1, 2}  # a staircase's three shades
    assert int(amulet_nbt.load(fetched["map_idcounts"]).compound["data"]["map"]) == 6
    schem = amulet_nbt.load(fetched["worldedit"]).compound["Schematic"]
    assert (int(schem["Width"]), int(schem["Length"])) == (256, 129) and int(schem["Height"]) <= 6

    names = zipfile.ZipFile(io.BytesIO(server.client.get(f"/api/conversion/{task_id}/download").content)).namelist()
    assert "map_files/world/data/map_5.dat" in names and "maps/r1c2/coffee_r1c2.schem" in names
    assert "map_preview/coffee_map.png" in names and "height_map/coffee_heights.png" in names
    inner = zipfile.ZipFile(io.BytesIO(fetched[categories["task_zip"]["fileId"]]))
    readme = inner.read("README.txt").decode()
    assert "map_files/world/data/map_6.dat: map item file" in readme and "map ids 5..6" in readme
    assert "maps/r1c1/coffee_r1c1.litematic" in inner.namelist()
    task = server.store.get(task_id)
    assert task.result["map_art"] == "staircase" and task.result["levels"] <= 6
    assert [m["map"] for m in task.result["per_map"]] == ["r1c1", "r1c2"]
    assert task_id in [m["id"] for m in server.client.get("/api/maps.json").json()["maps"]]  # its web map
    web_meta = server.client.get(f"/api/map/{task_id}/metadata.json").json()
    assert web_meta["map_art"] == {"kind": "staircase", "maps": "2x1", "map_size": 128}
    assert len(server.client.get(f"/api/map/{task_id}/blockdata.json").json()["heights"]) == 128


@pytest.mark.parametrize(
    ("metadata", "detail"),
    [
        ({"map_art": "sideways"}, "metadata.map_art must be one of flat, staircase, map-file, got 'sideways'"),
        ({"map_art": 3}, "metadata.map_art must be a string"),
        ({"map_art": "flat", "maps": "3"}, "metadata.maps must be two whole numbers"),
        ({"map_art": "flat", "maps": "2x40"}, "metadata.maps must be two whole numbers from 1 to 32"),
        (
            {"map_art": "staircase", "max_height": 2, "support": "all"},
            "metadata.max_height: a staircase needs at least 3 levels",
        ),
        ({"map_art": "flat", "max_height": 4}, "metadata.max_height is for staircase map art"),
        ({"map_art": "staircase", "max_height": "high"}, "metadata.max_height must be a whole number, got 'high'"),
        ({"map_art": "staircase", "max_height": 5000}, "metadata.max_height 5000 from y 100 would reach"),
        ({"map_art": "flat", "map_blocks": [1]}, "metadata.map_blocks must be an object of colour names"),
        ({"map_art": "flat", "map_blocks": {"MAUVE": "minecraft:stone"}}, "metadata.map_blocks: unknown map colour"),
        ({"map_art": "flat", "map_blocks": {"GRASS": "minecraft:stone"}}, "does not show map colour GRASS"),
        ({"map_art": "flat", "exclude_colours": ["mauve"]}, "metadata.exclude_colours: unknown map colour 'mauve'"),
        ({"map_art": "flat", "map_framing": "stretch"}, "metadata.map_framing must be one of crop, fit"),
        ({"map_art": "flat", "support": "sometimes"}, "metadata.support must be one of none, needed, all"),
        ({"map_art": "flat", "support_block": "minecraft:nothing"}, "metadata.support_block 'minecraft:nothing'"),
        ({"map_art": "flat", "map_id": -1}, "metadata.map_id must be a whole number from 0"),
        ({"map_art": "flat", "map_layout": "newest"}, "metadata.map_layout must be one of auto, legacy, modern"),
        ({"map_art": "flat", "origin_x": 0}, "metadata.origin_x 0 is not on a map's edge"),
        ({"map_art": "flat", "origin_z": 100}, "metadata.origin_z 100 is not on a map's edge"),
        ({"map_art": "flat", "orientation": "wall"}, "metadata.orientation must be floor for map art"),
    ],
)
def test_bad_map_art_fields_are_400_naming_the_field(server, metadata, detail):
    before = server.store.count()
    answer = start(server, PHOTO, metadata)
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["detail"]
    assert server.store.count() == before


def test_the_preview_of_map_art_is_the_maps_picture(server):
    metadata = {"map_art": "staircase", "maps": "2x1", "max_height": 5, "exclude_colours": ["SNOW"]}
    answer = server.client.post(
        "/api/conversion/preview",
        data={"width": "8", "height": "8", "metadata": json.dumps(metadata)},  # the maps give the size
        files={"image_file": ("c.jpg", PHOTO, "image/jpeg")},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    picture = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))
    assert picture.shape == (128, 256, 4) and (picture[..., 3] == 255).all()
    snow = next(c for c in mapart.map_colours() if c.name == "SNOW")
    allowed = {c.shade(s) for c in mapart.map_colours() if c.name not in ("SNOW", "WATER") for s in (0, 1, 2)}
    seen = {tuple(int(v) for v in p) for p in np.unique(picture[..., :3].reshape(-1, 3), axis=0)}
    assert seen <= allowed and len(seen) > 20 and snow.shade(1) not in seen
    too_many = server.client.post(
        "/api/conversion/preview",
        data={"width": "8", "height": "8", "metadata": json.dumps({"map_art": "flat", "maps": "5x4"})},
    )
    assert too_many.status_code == 400
    assert too_many.json()["detail"].startswith("metadata.maps 5x4 is 640x512 blocks; previews are limited to 262,144")
    bad = server.client.post(
        "/api/conversion/preview", data={"width": "8", "height": "8", "metadata": json.dumps({"map_art": "tall"})}
    )
    assert bad.status_code == 400 and bad.json()["detail"].startswith("metadata.map_art must be one of")


def test_options_offer_map_art_with_every_colour_and_its_blocks(server):
    offered = server.client.get("/api/options").json()["map_art"]
    assert offered["kinds"] == ["flat", "staircase", "map-file"] and offered["framings"] == ["crop", "fit"]
    assert offered["support_modes"] == ["none", "needed", "all"] and offered["layouts"] == ["auto", "legacy", "modern"]
    assert offered["default_support_block"] == "minecraft:cobblestone" and offered["default_origin"] == -64
    colours = offered["colours"]
    assert len(colours) == 61 and [c["id"] for c in colours] == list(range(1, 62))
    grass = colours[0]
    assert (
        grass["name"] == "GRASS"
        and grass["rgb"] == [109, 153, 48]
        and grass["default_block"] == "minecraft:grass_block"
    )
    assert {"id", "name", "since", "needs_support", "flammable"} == set(grass["blocks"][0])
    for colour in colours:
        ids = [b["id"] for b in colour["blocks"]]
        assert ids and (
            colour["default_block"] in ids or (colour["name"] == "WATER" and colour["default_block"] is None)
        )
