"""Materials list: how many of each block a build needs, in stacks and shulker boxes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import split

STACK = 64
SHULKER_STACKS = 27
SHULKER = STACK * SHULKER_STACKS  # 1728 blocks


@dataclass(frozen=True, kw_only=True)
class Material:
    """One line of the materials list."""

    block_id: str
    name: str
    count: int
    stacks: int  # full stacks of 64
    remainder: int  # blocks beyond the full stacks
    shulker_boxes: int  # full shulker boxes of 27 stacks
    stacks_after_boxes: int  # full stacks beyond the full boxes
    shulker_boxes_exact: float  # count / 1728, for planning storage

    @property
    def summary(self) -> str:
        """'2 shulker boxes + 3 stacks + 12', leaving out zero parts."""
        parts = []
        if self.shulker_boxes:
            parts.append(f"{self.shulker_boxes} shulker box{'es' if self.shulker_boxes != 1 else ''}")
        if self.stacks_after_boxes:
            parts.append(f"{self.stacks_after_boxes} stack{'s' if self.stacks_after_boxes != 1 else ''}")
        if self.remainder or not parts:
            parts.append(str(self.remainder))
        return " + ".join(parts)


def material(block_id: str, name: str, count: int) -> Material:
    return Material(
        block_id=block_id,
        name=name,
        count=count,
        stacks=count // STACK,
        remainder=count % STACK,
        shulker_boxes=count // SHULKER,
        stacks_after_boxes=(count % SHULKER) // STACK,
        shulker_boxes_exact=round(count / SHULKER, 3),
    )


def materials(grid: BlockGrid, rows: slice = slice(None), cols: slice = slice(None)) -> list[Material]:
    """Blocks used by the grid (or a rectangle of it), most used first (ties by id); air is not a material."""
    indices = grid.indices[rows, cols]
    counts = np.bincount(indices[indices >= 0].ravel().astype(np.intp), minlength=len(grid.block_ids))
    found = [material(grid.block_ids[i], grid.names[i], int(c)) for i, c in enumerate(counts) if c > 0]
    return sorted(found, key=lambda m: (-m.count, m.block_id))


@dataclass(frozen=True, kw_only=True)
class PartList:
    """The materials of one part of a split build."""

    number: int  # 1-based, in reading order
    label: str  # world coordinate range, e.g. 'x0..63_z0..31'
    materials: list[Material]


def part_lists(grid: BlockGrid, parts: list[split.Part]) -> list[PartList]:
    """One materials list per part of a split build."""
    return [
        PartList(number=n, label=p.label, materials=materials(grid, slice(p.row0, p.row1), slice(p.col0, p.col1)))
        for n, p in enumerate(parts, start=1)
    ]


_FIELDS = [
    "block_id",
    "name",
    "count",
    "stacks",
    "remainder",
    "shulker_boxes",
    "stacks_after_boxes",
    "shulker_boxes_exact",
]


def to_csv(rows: list[Material]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*_FIELDS, "summary"])
    for row in rows:
        writer.writerow([getattr(row, f) for f in _FIELDS] + [row.summary])
    return buf.getvalue().encode("utf-8")


def to_parts_csv(parts: list[PartList]) -> bytes:
    """Every part's list in one table, with the part's number and world coordinate range first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["part", "range", *_FIELDS, "summary"])
    for part in parts:
        for row in part.materials:
            writer.writerow([part.number, part.label] + [getattr(row, f) for f in _FIELDS] + [row.summary])
    return buf.getvalue().encode("utf-8")


def _json_rows(rows: list[Material]) -> list[dict[str, Any]]:
    return [{**{f: getattr(r, f) for f in _FIELDS}, "summary": r.summary} for r in rows]


def to_json(rows: list[Material], *, width: int, height: int, air: int, parts: Sequence[PartList] = ()) -> bytes:
    document = {
        "width": width,
        "height": height,
        "total_blocks": sum(r.count for r in rows),
        "air": air,
        "stack_size": STACK,
        "shulker_box_size": SHULKER,
        "materials": _json_rows(rows),
        "parts": [
            {
                "part": p.number,
                "range": p.label,
                "total_blocks": sum(r.count for r in p.materials),
                "materials": _json_rows(p.materials),
            }
            for p in parts
        ],
    }
    return (_readable_json(document) + "\n").encode("utf-8")


def _readable_json(value: Any, indent: str = "") -> str:
    """JSON indented by level, with each object or list of plain values on one line (one line per
    material). ``json.dumps(indent=2)`` says the same but runs in pure Python: 10x slower here."""
    inner = indent + "  "
    if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {_readable_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(f"{inner}{_readable_json(v, inner)}" for v in value) + f"\n{indent}]"
    return json.dumps(value)


def _text_table(rows: list[Material]) -> list[str]:
    if not rows:
        return ["  (no blocks)"]
    name_width = max(len(r.name) for r in rows)
    count_width = max(len(f"{r.count:,}") for r in rows)
    return [f"  {r.name:<{name_width}}  {r.count:>{count_width},}  {r.summary}" for r in rows]


def to_text(rows: list[Material], *, width: int, height: int, parts: Sequence[PartList] = ()) -> bytes:
    """A list to read while building: blocks, counts, and the count in shulker boxes and stacks."""
    total = sum(r.count for r in rows)
    lines = [
        f"Materials for a {width} x {height} build: {total:,} blocks of {len(rows)} kinds",
        f"(a stack is {STACK} blocks, a shulker box {SHULKER_STACKS} stacks = {SHULKER} blocks)",
        "",
        *_text_table(rows),
    ]
    for p in parts:
        count = sum(r.count for r in p.materials)
        lines += ["", f"Part {p.number} ({p.label}): {count:,} blocks", *_text_table(p.materials)]
    return ("\n".join(lines) + "\n").encode("utf-8")
