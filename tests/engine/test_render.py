"""Textured renders: real block textures, air, block and chunk lines on world coordinates, sources."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import palette, render, textures
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import bundle
from pixeletica.errors import InvalidInput, LimitExceeded


@pytest.fixture(scope="module")
def small_palette() -> palette.Palette:
    return palette.select(palette.PaletteFilter(include_blocks=("stone", "oak_log", "white_wool")))


def test_blocks_are_drawn_with_their_real_textures_and_air_is_clear(small_palette):
    source = textures.source(None)
    names = [b.textures["side"] for b in small_palette.blocks]
    tiles, flat = textures.atlas(names, small_palette.colors, 16, source)
    assert flat == [] and tiles.shape == (4, 16, 16, 4) and (tiles[0] == 0).all()
    grid = np.array([[0, 1, -1], [2, 0, 1]], dtype=np.int16)
    image = render.render(grid, tiles)
    assert image.shape == (32, 48, 4)
    assert (image[0:16, 0:16] == tiles[1]).all() and (image[16:32, 32:48] == tiles[2]).all()
    assert (image[0:16, 32:48, 3] == 0).all()  # air
    log = source.load("minecraft:block/oak_log")
    where = small_palette.ids.index("minecraft:oak_log")  # palette index -> tile where + 1
    assert (tiles[where + 1] == log).all()
    assert (image[0:16, 16:32] == tiles[2]).all()
    assert len(np.unique(log.reshape(-1, 4), axis=0)) > 4  # a texture, not a flat colour


def test_chunk_labels_sit_at_chunk_corners_and_nowhere_else():
    scale = 8
    lines = render.Lines.variant("chunk_lines_only", origin_x=-21, origin_z=-3, chunk_color=(200, 0, 0, 255))
    plain = render.draw_lines(_blank(40, 40, scale), scale, lines)
    labelled = render.draw_chunk_labels(plain.copy(), scale, lines)
    changed = (labelled != plain).any(axis=2)
    corners = [(row, col) for row in (3, 19, 35) for col in (5, 21, 37)]  # z = 0, 16, 32 and x = -16, 0, 16
    for row, col in corners:
        box = labelled[row * scale + 2 : row * scale + 14, col * scale + 2 : col * scale + 40]
        assert (box[..., 0] > 150).mean() > 0.5  # a light box ...
        assert ((box[..., 0] > 150) & (box[..., 1] < 100)).any()  # ... with text in the chunk line colour
    near = np.zeros_like(changed)
    for row, col in corners:
        near[row * scale : (row + 3) * scale, col * scale : (col + 10) * scale] = True
    assert changed.any() and not (changed & ~near).any()


def test_scale_resizes_each_texture(small_palette):
    tiles, _ = textures.atlas(
        [b.textures["side"] for b in small_palette.blocks], small_palette.colors, 4, textures.source(None)
    )
    assert tiles.shape == (4, 4, 4, 4)
    with pytest.raises(InvalidInput, match="scale must be between 1 and 64"):
        textures.atlas([None], np.zeros((1, 3), np.uint8), 0, textures.source(None))


def _blank(h: int, w: int, scale: int) -> np.ndarray:
    image = np.zeros((h * scale, w * scale, 4), dtype=np.uint8)
    image[..., 3] = 255
    return image


def test_chunk_lines_follow_world_coordinates_including_negative_ones():
    scale = 4
    lines = render.Lines.variant("chunk_lines_only", origin_x=-21, origin_z=30, chunk_color=(255, 0, 0, 255))
    image = render.draw_lines(_blank(40, 40, scale), scale, lines)
    red_columns = sorted({x // scale for x in range(image.shape[1]) if image[1, x, 0] == 255 and image[3, x, 0] == 255})
    assert red_columns == [5, 21, 37]  # x = -16, 0, 16
    red_rows = sorted({y // scale for y in range(image.shape[0]) if image[y, 3, 0] == 255 and image[y, 2, 0] == 255})
    assert red_rows == [2, 18, 34]  # z = 32, 48, 64


def test_block_lines_and_alpha_blending():
    scale = 8
    lines = render.Lines.variant("block_grid_only", block_color=render.parse_rgba("#FFFFFF80"))
    image = render.draw_lines(_blank(2, 2, scale), scale, lines)
    assert image[0, 3, 0] == 128 and image[3, 0, 0] == 128  # top and left edge of each block, half white
    assert image[3, 3, 0] == 0 and image[3, 8, 0] == 128
    assert render.parse_rgba("#102030") == (16, 32, 48, 255)
    with pytest.raises(InvalidInput, match="block_line_color must be a colour"):
        render.parse_rgba("red", "block_line_color")
    with pytest.raises(InvalidInput, match=r"line_visibilities must be a list of some of: .*, got 'grid'"):
        render.Lines.variant("grid")


def test_textures_from_a_resource_pack_folder_and_zip(tmp_path, small_palette):
    purple = Image.new("RGBA", (16, 32), (120, 0, 200, 255))  # "animated": two frames
    folder = tmp_path / "pack" / "assets" / "minecraft" / "textures" / "block"
    folder.mkdir(parents=True)
    purple.save(folder / "stone.png")
    names = [b.textures["side"] for b in small_palette.blocks]
    tiles, flat = textures.atlas(names, small_palette.colors, 16, textures.source(tmp_path / "pack"))
    stone = [b.id for b in small_palette.blocks].index("minecraft:stone")
    assert tuple(tiles[stone + 1, 5, 5]) == (120, 0, 200, 255)
    assert sorted(flat) == sorted(i for i in range(len(names)) if i != stone)  # the others: flat colour
    buf = io.BytesIO()
    purple.save(buf, format="PNG")
    with zipfile.ZipFile(tmp_path / "pack.zip", "w") as archive:
        archive.writestr("assets/minecraft/textures/block/stone.png", buf.getvalue())
    tiles_zip, _ = textures.atlas(names, small_palette.colors, 16, textures.source(tmp_path / "pack.zip"))
    assert (tiles_zip[stone + 1] == tiles[stone + 1]).all()
    with pytest.raises(InvalidInput, match="neither a resource pack folder"):
        textures.source(tmp_path / "nothing-here")


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring ``width`` x ``height`` pixels, with a few bytes of data (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_png_declaring(100_000, 100_000), "declares more pixels than any image is opened with"),
        (_png_declaring(4096, 16), "is 4096x16 pixels; textures are used up to 1024 pixels wide"),
        (_png_declaring(1024, 32768), "is 1024x32768 pixels"),
        (b"\0" * (64 * 2**20), "is larger than 4 MB"),  # 64 MB of zeros: a 64 kB entry in the zip
    ],
)
def test_a_resource_pack_cannot_fill_the_memory(tmp_path, small_palette, entry, message):
    with zipfile.ZipFile(tmp_path / "pack.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("assets/minecraft/textures/block/stone.png", entry)
    names = [b.textures["side"] for b in small_palette.blocks]
    with pytest.raises(LimitExceeded, match=message):
        textures.atlas(names, small_palette.colors, 16, textures.source(tmp_path / "pack.zip"))


def test_rendered_outputs_one_per_line_visibility(small_palette):
    grid = BlockGrid.from_palette(np.array([[0, 1], [2, -1]], dtype=np.int16), small_palette)
    options = bundle.RenderOptions(line_visibilities=("no_lines", "both"), scale=8)
    outputs, flat = bundle.rendered_outputs(grid, "pic", options)
    assert [o.category for o in outputs] == ["rendered/no_lines", "rendered/both_lines"]
    assert flat == []
    assert Image.open(io.BytesIO(outputs[0].data)).size == (16, 16)
    with pytest.raises(LimitExceeded, match="the render would be"):
        bundle.rendered_outputs(grid, "pic", bundle.RenderOptions(scale=16, max_pixels=100))


def test_renders_made_in_strips_equal_the_whole_picture_drawn_at_once(small_palette):
    rng = np.random.default_rng(7)
    indices = rng.integers(-1, len(small_palette), (45, 37)).astype(np.int16)
    grid = BlockGrid.from_palette(indices, small_palette)
    options = bundle.RenderOptions(
        line_visibilities=("no_lines", "both"), scale=4, origin_x=-5, origin_z=-23, chunk_labels=True,
        image_division=4, block_line_color="#00000080",
    )  # fmt: skip
    outputs, _ = bundle.rendered_outputs(grid, "pic", options)
    tiles, _ = textures.atlas(
        [b.textures["side"] for b in small_palette.blocks], small_palette.colors, 4, textures.source(None)
    )
    parts = options.parts(grid.width, grid.height)
    for variant, kind in (("no_lines", "no_lines"), ("both", "both_lines")):
        lines = options.lines(variant)
        expected = render.draw_lines(render.render(indices, tiles), 4, lines)
        if lines.chunk:
            render.draw_chunk_labels(expected, 4, lines)
        mine = [o for o in outputs if o.category == f"rendered/{kind}"]
        assert len(mine) == 1 + len(parts)
        assert (np.asarray(Image.open(io.BytesIO(mine[0].data)).convert("RGBA")) == expected).all()
        for part, output in zip(parts, mine[1:], strict=True):
            crop = expected[part.row0 * 4 : part.row1 * 4, part.col0 * 4 : part.col1 * 4]
            assert (np.asarray(Image.open(io.BytesIO(output.data)).convert("RGBA")) == crop).all()


def test_png_writer_keeps_every_pixel_and_drops_alpha_only_when_opaque():
    from pixeletica.engine import png

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (70, 33, 4), dtype=np.uint8)
    with Image.open(io.BytesIO(png.encode(image, strip_rows=16))) as im:
        assert im.mode == "RGBA" and (np.asarray(im) == image).all()
    image[..., 3] = 255
    with Image.open(io.BytesIO(png.encode(image))) as im:
        assert im.mode == "RGB" and (np.asarray(im) == image[..., :3]).all()
    writer = png.Writer(4, 4)
    writer.write(image[:2, :4])
    with pytest.raises(ValueError, match="2 rows written of 4"):
        writer.finish()


def test_the_scale_halves_until_a_render_fits():
    assert render.fitting_scale(1000, 1000) == 16  # 256 Mpx: within 16384 x 16384
    assert render.fitting_scale(1100, 1100) == 8
    assert render.fitting_scale(4096, 4096) == 4
    assert render.fitting_scale(4096, 64) == 16  # the limit is on pixels, not on one side
    with pytest.raises(LimitExceeded):
        render.fitting_scale(20_000, 20_000)


def test_render_options_resolve_the_scale_and_refuse_labels_too_small():
    from pixeletica.engine.exports import bundle

    assert bundle.RenderOptions().resolved(1100, 1100).scale == 8
    assert bundle.RenderOptions(scale=4).resolved(1100, 1100).scale == 4
    with pytest.raises(LimitExceeded, match="render would be"):
        bundle.RenderOptions(scale=16).resolved(1100, 1100)
    with pytest.raises(InvalidInput, match="chunk labels need 4"):
        bundle.RenderOptions(chunk_labels=True, max_pixels=16 * 16 * 100 * 100).resolved(500, 500)
    with pytest.raises(InvalidInput, match="origin_x"):
        bundle.RenderOptions(origin_x=2**31).validate()


def test_colours_must_be_exactly_a_hex_colour():
    assert render.parse_rgba("#ff000080") == (255, 0, 0, 128)
    for bad in ("#FF0000\n", " #FF0000", "#FF0000 ", "#FFF", "red"):
        with pytest.raises(InvalidInput):
            render.parse_rgba(bad)
