"""Splitting a build into parts: near-equal, on chunk borders where possible, named by world coordinates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixeletica.engine.exports import split
from pixeletica.errors import InvalidInput


def test_cuts_snap_to_chunk_borders_and_parts_are_named_by_world_coordinates():
    parts = split.parts(100, 60, 4, origin_x=-5, origin_z=0)
    assert [(p.row0, p.row1, p.col0, p.col1) for p in parts] == [
        (0, 32, 0, 53),
        (0, 32, 53, 100),
        (32, 60, 0, 53),
        (32, 60, 53, 100),
    ]
    assert (-5 + 53) % 16 == 0  # the column cut is a chunk border in the world
    assert [p.label for p in parts] == ["x-5..47_z0..31", "x48..94_z0..31", "x-5..47_z32..59", "x48..94_z32..59"]


@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    count=st.integers(1, 12),
    origin_x=st.integers(-1000, 1000),
    origin_z=st.integers(-1000, 1000),
)
def test_parts_cover_the_grid_exactly_once(width, height, count, origin_x, origin_z):
    if count > width * height:
        with pytest.raises(InvalidInput):
            split.parts(width, height, count, origin_x, origin_z)
        return
    try:
        parts = split.parts(width, height, count, origin_x, origin_z)
    except InvalidInput:
        return  # e.g. 7 parts of a 3x3 grid: no rows x cols grid of 7 fits
    assert len(parts) == count
    area = sum((p.row1 - p.row0) * (p.col1 - p.col0) for p in parts)
    assert area == width * height
    assert all(p.row1 > p.row0 and p.col1 > p.col0 for p in parts)


@pytest.mark.parametrize(("count", "message"), [(0, "1 or more"), (50, "more parts than")])
def test_bad_divisions_are_refused(count, message):
    with pytest.raises(InvalidInput, match=message):
        split.parts(5, 5, count)
