"""The YAML writer: libyaml's emitter writes the same bytes as PyYAML's pure-Python one."""
from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.render import render
from generator.writer import yamlout

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "a\nb", "a\n", " lead", "trail ", "yes", "null", "1e3", "0x1F", "- x", "a: b", "#c", "'q'", '"d"',
     "\u2028", "\x85", "\ufeff", "é", "日本", "tab\there", "{{ $labels.x }}", "|", ">"])
SCALARS = TEXT | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() \
    | st.none()
KEYS = TEXT
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                         max_leaves=30)


def test_libyaml_is_there():
    """The pinned wheel has it; without it every render would take the slow emitter."""
    assert yaml.__with_libyaml__ and len(yamlout.DUMPERS) == 2


@settings(max_examples=500, deadline=None)   # 3,000 found no other difference
@given(st.lists(DOCUMENTS, max_size=4) | st.dictionaries(KEYS, DOCUMENTS, max_size=4))
def test_both_emitters_write_the_same_bytes(document):
    """Every file the generator writes is a mapping or a list at the top (a lone scalar would differ: the
    pure-Python emitter ends it with `...`)."""
    fast, pure = yamlout.DUMPERS
    reference = yamlout.dump(document, pure)
    assert yamlout.dump(document) == reference
    if yamlout._libyaml_writes_it_the_same(document):
        assert yamlout.dump(document, fast) == reference


def test_the_project_renders_the_same_with_the_pure_python_emitter(catalog, rendered, monkeypatch):
    monkeypatch.setattr(yamlout, "DUMPERS", [yamlout.PureDumper])
    files, _ = render(catalog)
    assert files == rendered


def test_the_shapes_libyaml_writes_differently_take_the_pure_emitter():
    fast, pure = yamlout.DUMPERS
    for document in ({"a": [{"": 1}]}, {"summary": "burning \U0001F525"}, {"\U00010000": None}):
        assert yamlout.dump(document, fast) != yamlout.dump(document, pure)   # still a difference worth routing
        assert not yamlout._libyaml_writes_it_the_same(document)
        assert yamlout.dump(document) == yamlout.dump(document, pure)
