"""Names from outside, cleaned for paths, ZIP entries, database columns and terminals: properties over any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pixeletica import names

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=400) | st.sampled_from(
    ["", ".", "..", "../../etc/passwd", "C:\\Windows\\x", "/abs/path", "a\x00b", "\x1b[31m", "\u202etxt.exe"]
)


@given(ANY_TEXT)
def test_a_file_name_is_one_harmless_path_component(text):
    name = names.file_name(text)
    assert name and len(name) <= names.MAX_FILE_NAME
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert name not in (".", "..") and not name.startswith(".")
    assert names.file_name(name) == name  # cleaning twice changes nothing


@given(ANY_TEXT)
def test_a_stem_leaves_room_for_suffixes(text):
    stem = names.file_stem(text)
    assert 0 < len(stem) <= 64 and names.file_name(stem + "_x0_y0_z0.nbt") == stem + "_x0_y0_z0.nbt"


@given(ANY_TEXT, st.integers(1, 300))
def test_a_label_is_one_visible_line_within_its_bound(text, limit):
    line = names.label(text, limit)
    assert len(line) <= limit
    assert "\n" not in line and "\x00" not in line and line == line.strip()
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in line)
    assert "\u202e" not in line and "\u200b" not in line


@given(ANY_TEXT)
def test_printable_text_cannot_drive_a_terminal(text):
    shown = names.printable(text)
    assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in shown)
    assert "\u202e" not in shown


def test_examples():
    assert names.file_name("../../etc/passwd") == "passwd"
    assert names.file_name("My Castle (1).png") == "My_Castle_1_.png"
    assert names.file_name("..") == "file" and names.file_name("", "input") == "input"
    assert names.file_name("x" * 300 + ".png").endswith(".png") and len(names.file_name("x" * 300 + ".png")) == 100
    assert names.label("  a\tb\n\x1b[31mc\u202e ") == "a b [31mc"
    assert names.printable("a\x1b[2Jb\n") == "a\\x1b[2Jb\n"
    assert names.shown("x" * 100, 10) == "'xxxxxxxx…"


def test_a_name_shown_on_one_line_escapes_line_breaks_and_tabs_too():
    assert names.printable("a\nb\tc") == "a\nb\tc"
    assert names.printable("a\nb\tc\x1b[2J", one_line=True) == "a\\x0ab\\x09c\\x1b[2J"
