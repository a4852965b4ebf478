"""The indented JSON writer: json.dumps's bytes (indent 2, sorted keys, no ASCII escaping)."""
from __future__ import annotations

import enum
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.writer import jsonout


class Level(enum.IntEnum):
    LOW = 1


TEXT = st.text(max_size=20) | st.sampled_from(["", "é", "\u2028", "\x00", '"', "\\", "\U0001F525", "\ud800"])
SCALARS = (TEXT | st.integers(-10**20, 10**20) | st.floats() | st.booleans() | st.none()
           | st.just(Level.LOW) | st.just(2.5).map(lambda f: type("F", (float,), {})(f)))
KEYS = TEXT | st.sampled_from([1, 2.5, None, True])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
                      | st.dictionaries(TEXT, inner, max_size=5), max_leaves=40)


def reference(value):
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_the_writer_writes_json_dumps_bytes(value):
    assert jsonout.dumps(value) == reference(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=3))
def test_keys_json_dumps_writes_itself(value):
    try:
        expected = reference(value)
    except TypeError:   # keys of types json cannot sort together: the same error either way
        try:
            jsonout.dumps(value)
        except TypeError:
            return
        raise AssertionError("jsonout wrote what json.dumps refuses")
    assert jsonout.dumps(value) == expected


def test_the_project_dashboards_take_the_fast_writer(rendered):
    """Every dashboard the project renders is one the writer writes itself (not left to json.dumps)."""
    boards = [json.loads(text) for path, text in rendered.items() if path.endswith(".json")]
    assert boards
    for board in boards:
        out: list[str] = []
        jsonout._write(board, out, "\n")
        assert "".join(out) == reference(board)
