"""Conversion settings: checked once into typed objects, stored as the JSON a task keeps, read back as they were."""

from __future__ import annotations

import json

import pytest

from pixeletica.engine import conversion_settings as settings
from pixeletica.errors import InvalidInput


def test_the_stored_form_keeps_the_exports_given_and_reads_back_the_same():
    raw = {"width": 12, "face": "top", "include_categories": "wool", "exports": {"generate_schematic": True}}
    parsed = settings.ConversionSettings.from_dict(raw)
    parsed.check_size(100, 80)
    stored = parsed.to_dict()
    assert stored["exports"] == {"generate_schematic": True}  # no defaults added to the exports
    assert stored["include_categories"] == ["wool"] and stored["algorithm"] == "floyd_steinberg"
    assert settings.ConversionSettings.from_stored(stored) == parsed
    plan = parsed.plan("pic", "pic.png")
    assert plan.renders and not plan.web_map and plan.schematics is not None and plan.zip_source == "pic.png"
    assert plan.rendering.line_visibilities == ("no_lines",)  # a task always draws the plain picture


def test_empty_exports_ask_for_nothing_beyond_picture_grid_and_materials():
    plan = settings.ConversionSettings.from_dict({"exports": {}}).plan("pic")
    assert not plan.renders and not plan.web_map and plan.schematics is None


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"width": "wide"}, "width must be a whole number"),
        ({"strength": 10**400}, "strength must be a number"),  # too large for a float
        ({"colour": "red"}, "unknown conversion setting"),
        ({"exports": {"orientation": "up"}}, "orientation"),
        ({"exports": {"generate_web_files": "yes"}}, "generate_web_files must be true or false"),
        ({"exports": {"schematic_author": 5}}, "schematic_author must be a string"),
        ({"exports": {"tiles": True}}, "unknown export setting"),
        ({"exports": {"textures": "/etc"}}, "unknown export setting"),  # the command line's alone
    ],
)
def test_bad_settings_are_refused_naming_the_field(raw, named):
    with pytest.raises(InvalidInput, match=named):
        settings.ConversionSettings.from_dict(raw)


def test_what_depends_on_the_build_s_size_is_checked_with_the_image_s_size():
    raw = {"width": 100, "exports": {"generate_schematic": True, "origin_x": 29_999_980}}
    parsed = settings.ConversionSettings.from_dict(raw)  # the size is not known: fits, as far as can be told
    with pytest.raises(InvalidInput, match="past the world's edge"):
        parsed.check_size(100, 80)


def test_the_command_line_s_plan_renders_only_the_line_variants_given():
    """``pixeletica convert`` draws no plain render of its own accord, yet splits the picture into parts."""
    split = settings.ConversionSettings(exports=settings.Exports.of(image_division=4))
    plan = split.plan("pic", plain_render=False)
    assert not plan.renders and plan.rendering.image_division == 4 and plan.zip_source is None
    lined = settings.Exports.of(line_visibilities=("both",), scale=8, textures="pack.zip")
    plan = settings.ConversionSettings(exports=lined).plan("pic", plain_render=False)
    assert plan.renders and plan.rendering.line_visibilities == ("both",)
    assert (plan.rendering.scale, plan.rendering.textures) == (8, "pack.zip")
    with pytest.raises(InvalidInput, match="scale must be a whole number"):
        settings.Exports.of(scale=0)


VALID = [
    {},
    {"width": 12, "strength": 1, "seed": 7, "serpentine": True, "resample": "nearest", "alpha_threshold": 0},
    {"height": 9, "face": "top", "include_categories": "wool", "exclude_blocks": ["minecraft:white_wool"]},
    {"width": 8, "game_version": "1.20.1", "no_gravity": True, "survival_only": False, "exports": {}},
    {
        "width": 16,
        "metric": "ciede2000",
        "exports": {
            "line_visibilities": ["both", "no_lines"],
            "schematic_formats": ["schem", "nbt", "schem"],
            "generate_schematic": True,
            "orientation": "wall",
            "facing": "east",
            "game_version": "1.20.1",
            "schematic_name": "a\nname",
            "chunk_line_color": "#00FF0080",
            "image_division": 2,
            "origin_y": 200,
        },
    },
]


@pytest.mark.parametrize("raw", VALID)
def test_the_stored_form_reads_back_as_the_object_it_was_made_from(raw):
    parsed = settings.ConversionSettings.from_dict(raw)
    stored = json.loads(json.dumps(parsed.to_dict()))  # as a task keeps it
    again = settings.ConversionSettings.from_stored(stored)
    assert again == parsed
    assert again.to_dict() == stored
    tuples = [again.palette_filter.include_categories, again.palette_filter.exclude_blocks]
    if again.exports is not None:
        tuples += [again.exports.line_visibilities, again.exports.schematic_formats]
    assert all(isinstance(t, tuple) for t in tuples)
    assert isinstance(again.options.strength, float)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"width": "wide"}, "width"),
        ({"width": -3}, "width"),
        ({"seed": 2**70}, "seed"),
        ({"exports": {"orientation": "up"}}, "orientation"),
        ({"exports": {"line_visibilities": "both"}}, "line_visibilities"),
        ({"exports": {"schematic_formats": []}}, "schematic_formats"),
        ({"exports": {"chunk_line_color": "red"}}, "chunk_line_color"),
        ({"exports": {"image_division": 0}}, "image_division"),
        ({"exports": {"origin_y": 5000}}, "origin_y"),
    ],
)
def test_an_error_about_one_setting_names_it_for_the_edges(raw, field):
    with pytest.raises(InvalidInput) as error:
        settings.ConversionSettings.from_dict(raw)
    assert error.value.field == field and str(error.value).startswith(field)


def test_map_art_settings_are_stored_and_read_back_as_they_were_checked():
    raw = {
        "algorithm": "ordered",
        "game_version": "1.20.1",
        "exports": {"origin_y": 70, "schematic_formats": ["schem"], "game_version": "1.20.1"},
        "map_art": {
            "kind": "staircase", "maps": " 2X1 ", "max_height": 12, "blocks": {"stone": "andesite"},
            "exclude": ["snow"], "support_block": "stone", "map_id": 4, "layout": "legacy", "framing": "fit",
        },
    }  # fmt: skip
    parsed = settings.ConversionSettings.from_dict(raw)
    parsed.check_size(10, 10)  # the image's size does not matter: the maps' does
    stored = json.loads(json.dumps(parsed.to_dict()))  # as a task keeps it
    assert stored["map_art"] == {
        "kind": "staircase", "maps": "2x1", "framing": "fit", "max_height": 12, "blocks": {"stone": "andesite"},
        "exclude": ["snow"], "support": "needed", "support_block": "minecraft:stone", "map_id": 4, "layout": "legacy",
        "preset": "default",
    }  # fmt: skip
    again = settings.ConversionSettings.from_stored(stored)
    assert again == parsed and again.to_dict() == stored
    plan = again.plan("pic", "pic.png")
    assert plan.map_art == parsed.map_art and plan.schematic_formats == ("schem",)
    placement = plan.map_placement  # on a map's edge unless the exports give the origin
    assert (placement.origin_x, placement.origin_y, placement.origin_z) == (-64, 70, -64)
    assert placement.game_version == "1.20.1" and parsed.map_art.size == (256, 128)
    assert settings.ConversionSettings.from_dict({}).map_art is None
    assert "map_art" not in settings.ConversionSettings.from_dict({"map_art": None}).to_dict()


@pytest.mark.parametrize(
    ("map_art", "exports", "field"),
    [
        ({"kind": "sideways"}, {}, "kind"),
        ({"kind": "flat", "maps": "0x1"}, {}, "maps"),
        ({"kind": "flat", "max_height": "high"}, {}, "max_height"),
        ({"kind": "staircase", "max_height": 1}, {}, "max_height"),
        ({"kind": "flat", "blocks": [1]}, {}, "blocks"),
        ({"kind": "flat", "blocks": {"GRASS": "minecraft:stone"}}, {}, "blocks"),
        ({"kind": "flat", "exclude": ["mauve"]}, {}, "exclude"),
        ({"kind": "flat", "support_block": "minecraft:nothing"}, {}, "support_block"),
        ({"kind": "flat", "map_id": -1}, {}, "map_id"),
        ({"kind": "flat"}, {"origin_x": 0}, "origin_x"),
        ({"kind": "flat"}, {"orientation": "wall"}, "orientation"),
        ({"kind": "staircase", "max_height": 300}, {"origin_y": 100}, "max_height"),
    ],
)
def test_bad_map_art_settings_name_the_field(map_art, exports, field):
    with pytest.raises(InvalidInput) as error:
        settings.ConversionSettings.from_dict({"map_art": map_art, "exports": exports})
    assert error.value.field == field


def test_map_art_stays_within_the_server_s_size_limit():
    with pytest.raises(InvalidInput, match="maps 3x1 would make 384x128 blocks; width and height are limited to 256"):
        settings.ConversionSettings.from_dict({"max_size": 256, "map_art": {"kind": "flat", "maps": "3x1"}})
    assert settings.ConversionSettings.from_dict({"max_size": 256, "map_art": {"kind": "flat", "maps": "2x2"}})
