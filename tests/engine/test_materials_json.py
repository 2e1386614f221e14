"""materials.json is written by Pixeletica's own indenting (fast); it must be JSON that reads back the same."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pixeletica.engine.exports import materials

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
)


@given(documents)
def test_readable_json_reads_back_as_the_same_document(document):
    assert json.loads(materials._readable_json(document)) == document


def test_one_material_per_line():
    rows = [{"block_id": f"minecraft:b{i}", "count": i} for i in range(3)]
    text = materials._readable_json({"width": 1, "materials": rows})
    lines = text.splitlines()
    assert len(lines) == 8 and lines[3].strip() == '{"block_id": "minecraft:b0", "count": 0},'
