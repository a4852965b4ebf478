"""The YAML writer: libyaml's emitter writes the same bytes as PyYAML's pure-Python one."""
from __future__ import annotations

import yaml
from hypothesis import example, given, settings
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
@example(["\n", ""])   # found by a `make test` run: libyaml ended it with `...` after the `|+` block
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


# The direct writer (yamlout.emit): the pure-Python emitter's bytes, or None (then PyYAML writes it).
LINES = st.lists(st.sampled_from(["", " ", "  x", "a", "b c", "a ", "- x", "key: v", "#", "'", '"', "\t", "é",
                                  "{{ $value }}", "x:", "...", "---"]), min_size=1, max_size=5).map("\n".join)
TRAILS = st.sampled_from(["", "\n", "\n\n", " ", "\n "])
PROSE = (LINES | TEXT) .flatmap(lambda text: TRAILS.map(lambda tail: text + tail))
ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=30)


class Team(str):
    pass


class Level(int):
    pass


RICH_SCALARS = (PROSE | ASCII | st.integers(-10**20, 10**20) | st.floats() | st.booleans() | st.none()
                | ASCII.map(Team) | st.integers(0, 9).map(Level))
RICH_KEYS = ASCII | TEXT | st.sampled_from(["a" * 122, "b" * 123, "on", "1", "~", "x y", "&a", "-", "? q", "k\tv"])
RICH = st.recursive(RICH_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
                    | st.dictionaries(RICH_KEYS, inner, max_size=4), max_leaves=40)
TOPS = st.lists(RICH, max_size=4) | st.dictionaries(RICH_KEYS, RICH, max_size=5)


@settings(max_examples=1500, deadline=None)
@given(TOPS)
def test_the_direct_writer_writes_the_pure_emitters_bytes(document):
    written = yamlout.emit(document)
    if written is not None:
        assert written == yamlout.dump(document, yamlout.PureDumper)
    assert yamlout.dump(document) == yamlout.dump(document, yamlout.PureDumper)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOPS, min_size=1, max_size=3))
def test_the_direct_writer_writes_the_pure_emitters_streams(documents):
    reference = yaml.dump_all(documents, Dumper=yamlout.PureDumper, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, width=1_000_000, indent=2, explicit_start=True)
    written = yamlout.emit_all(documents)
    if written is not None:
        assert written == reference
    assert yamlout.dump_all(documents) == reference


def test_the_direct_writer_takes_the_generators_documents(rendered):
    """It must not leave the project's files to PyYAML (else the speed is lost without a test failing)."""
    for document in ({"groups": [{"name": "g", "rules": [{"record": "r", "expr": "sum(x{a=\"b\"})",
                                                          "labels": {"slo": "s"}}]}]},
                     {"summary": "a\nb\n", "runbook": "- step\n\n  more\n", "x": " lead", "y": "null", "z": 0.5}):
        assert yamlout.emit(document) == yamlout.dump(document, yamlout.PureDumper)
    for document in ({"a": "\U0001F525"}, {"": 1}, {"k" * 123: 1}, {1: "a"}, "scalar"):
        assert yamlout.emit(document) is None or yamlout.emit(document) == yamlout.dump(document, yamlout.PureDumper)
