"""Materials list: how many of each block a build needs, in stacks and shulker boxes."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from pixeletica.engine.blockgrid import BlockGrid

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


def materials(grid: BlockGrid) -> list[Material]:
    """Blocks used by the grid, most used first (ties by id); air is not a material."""
    counts = grid.counts()
    rows = [material(grid.block_ids[i], grid.names[i], int(c)) for i, c in enumerate(counts) if c > 0]
    return sorted(rows, key=lambda m: (-m.count, m.block_id))


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


def to_json(rows: list[Material], *, width: int, height: int, air: int) -> bytes:
    document = {
        "width": width,
        "height": height,
        "total_blocks": sum(r.count for r in rows),
        "air": air,
        "stack_size": STACK,
        "shulker_box_size": SHULKER,
        "materials": [{**{f: getattr(r, f) for f in _FIELDS}, "summary": r.summary} for r in rows],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")
