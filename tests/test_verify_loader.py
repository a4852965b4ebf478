"""The verify step's quick loader: the documents yaml.load_all gives, or its error, on any text."""
from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.checks import verify
from generator.writer import yamlout

PIECES = st.sampled_from([
    "a: 1\n", "- x\n", "b: [1, 2]\n", "c: {d: e}\n", "<<: {x: 1}\n", "=: v\n", "k: !!int 3\n", "k: !!int x\n",
    "k: 2024-13-45\n", "k: 2024-01-02\n", "k: 0x_\n", "? [a]\n: b\n", "? {a: 1}\n: b\n", "s: !!set {a, b}\n",
    "t: !!str [1]\n", "m: !!map x\n", "u: !foo bar\n", "&a x: *a\n", "r: &r [*r]\n", "---\n", "...\n", "e: \n",
    "q: 'it''s'\n", "l: |\n  line\n", "z: ~\n", "f: 1.5e3\n", "o: !!omap [a: 1]\n", "bin: !!binary aGk=\n",
    "bad: [\n", "  indented: 1\n", ": x\n", "dup: 1\ndup: 2\n", "n: .nan\n", "y: yes\n", "p: !!python/tuple [1]\n",
])


def standard(text):   # repr: an alias may recurse, and .nan is not equal to itself
    try:
        return "ok", repr(list(yaml.load_all(text, Loader=verify._Loader)))
    except Exception as error:   # noqa: BLE001
        return "error", f"{type(error).__name__}: {error}"


def quick(text):
    try:
        return "ok", repr(verify._load_all(text))
    except Exception as error:   # noqa: BLE001
        return "error", f"{type(error).__name__}: {error}"


@settings(max_examples=1000, deadline=None)
@given(st.lists(PIECES, max_size=6).map("".join))
def test_the_quick_loader_gives_what_load_all_gives(text):
    assert quick(text) == standard(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=10), st.text(max_size=20) | st.integers() | st.none()
                                | st.lists(st.text(max_size=5), max_size=3), max_size=4), max_size=3))
def test_on_what_the_writer_writes(documents):
    text = yamlout.dump_all(documents)
    assert quick(text) == standard(text)


def syntax_only(text):
    """The verdict of the check on a file whose data no check reads: libyaml's parser, every event."""
    return "error" if verify._parse_one("x.yaml", text, documents=False)[1] else "ok"


@settings(max_examples=1000, deadline=None)
@given(st.lists(PIECES, max_size=6).map("".join))
def test_the_syntax_check_refuses_what_the_parser_refuses(text):
    """A file the syntax check accepts parses to the end; one it refuses, yaml.load_all refuses too.
    Only what the composer and the constructor add (anchors, tags, complex keys, bad dates: nothing the
    writer emits for the generator's data) can pass it."""
    verdict, detail = standard(text)
    if syntax_only(text) == "error":
        assert verdict == "error", text
    elif verdict == "error":
        assert detail.startswith(("ConstructorError", "ComposerError", "ValueError", "TypeError")), (text, detail)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=10), st.text(max_size=20) | st.integers() | st.none()
                                | st.lists(st.text(max_size=5), max_size=3), max_size=4), max_size=3))
def test_the_syntax_check_accepts_what_the_writer_writes(documents):
    assert syntax_only(yamlout.dump_all(documents)) == "ok"
