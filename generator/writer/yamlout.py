"""Deterministic YAML: insertion order kept, multi-line strings as blocks.

The bytes are those of PyYAML's pure-Python emitter. Three writers produce them, fastest first:
- `emit`, a writer for the documents the generator builds (mappings, lists, strings, numbers,
  booleans, None) that formats each scalar as the pure emitter would (its own scalar analysis and
  resolver decide the style) and writes the block layout directly, with no events or nodes in
  between; a document it does not know how to write (a key that is not a short one-line string, a
  type other than those, a scalar too long for one line) it leaves to the next writer;
- libyaml's emitter (PyYAML's C extension, in the pinned wheel), which writes the same bytes for every
  document but a few shapes (`_libyaml_writes_it_the_same`);
- the pure-Python emitter itself, for those shapes and on a machine without libyaml.
tests/test_yamlout.py compares all three on random documents.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import yaml
from yaml.emitter import Emitter
from yaml.resolver import Resolver
from yaml.representer import SafeRepresenter

# YAML reads these as line breaks (or cannot print them): such text is written double-quoted, escaped.
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _string(dumper: SafeRepresenter, value: str) -> yaml.ScalarNode:
    if _SPECIAL.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _configure(dumper: type[SafeRepresenter]) -> None:
    dumper.add_representer(str, _string)
    # A definition may hold a str or int subclass (an enum.StrEnum team name, an IntEnum threshold): the
    # validators see its value, and YAML gets that plain value (SafeDumper knows only the exact types).
    dumper.add_multi_representer(str, lambda d, value: _string(d, str.__str__(value)))
    dumper.add_multi_representer(int, lambda d, value: d.represent_int(int.__index__(value)))
    dumper.add_multi_representer(float, lambda d, value: d.represent_float(float.__float__(value)))


class PureDumper(yaml.SafeDumper):
    """PyYAML's pure-Python emitter."""

    def ignore_aliases(self, data: object) -> bool:  # never write &id001 anchors
        return True


_configure(PureDumper)
DUMPERS: list[type[SafeRepresenter]] = [PureDumper]   # the one dump() uses first

if yaml.__with_libyaml__:   # yaml.CSafeDumper exists only where PyYAML was built with libyaml
    class FastDumper(yaml.CSafeDumper):
        """libyaml's emitter: the same bytes, several times faster."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    _configure(FastDumper)
    DUMPERS.insert(0, FastDumper)


_PLAIN_KEY = re.compile(r"[ -~]+")
_KEY_LONGEST = 122  # a key of up to this many characters (plus "!!str") is a simple key: `key: value`


def _libyaml_writes_it_the_same(data: object) -> bool:
    """Whether libyaml writes `data` exactly as the pure-Python emitter does. It does not for text
    beyond the Basic Multilingual Plane (libyaml escapes it, PyYAML prints it), nor for a key that is
    empty, longer than 122 characters (PyYAML writes `? key`, libyaml `key:` up to 128 characters) or holds anything
    but printable ASCII (`? ''`, `? "\\r"`); every key the generator writes is a label, field or
    component name; nor after text that keeps its final line breaks (`|+`, found by Hypothesis:
    `['\\n', '']` gets a `...` from libyaml). tests/test_yamlout.py searches for other differences."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item and max(item) > "\uffff":
                return False
            if item.endswith("\n") and (len(item) == 1 or item[-2] == "\n"):
                return False   # a `|+` block (keep the final breaks): libyaml may end the document with `...`
        elif isinstance(item, dict):
            for key, value in item.items():
                if not isinstance(key, str) or len(key) > _KEY_LONGEST or _PLAIN_KEY.fullmatch(key) is None:
                    return False
                stack.append(value)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


# --- the direct writer ------------------------------------------------------------------------------

class _Unsupported(Exception):
    """A document (or a part of one) `emit` leaves to PyYAML."""


_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_RESOLVER = Resolver()
_ANALYSER = SimpleNamespace(allow_unicode=True)   # all Emitter.analyze_scalar reads of its emitter
_LINE_BREAKS = "\n\x85\u2028\u2029"
_LONGEST = 50_000   # a scalar longer may reach the 1,000,000-column width, where PyYAML folds lines
# A printable-ASCII string the pure emitter writes plain in block context: no leading indicator, no
# `: ` or ` #`, no space at either end, not a document marker (what Emitter.analyze_scalar checks,
# for ASCII; anything else takes the analysis itself).
_PLAIN_ASCII = re.compile(r"(?!---|\.\.\.)(?![-?:](?: |\Z))[!-~](?<![#,\[\]{}&*!|>'\"%@`])(?:[ -~]*[!-~])?")
# Printable ASCII on one line: plain where _PLAIN_ASCII allows it and it reads back as a string, else
# single-quoted (nothing in it needs the double quotes).
_LINE_ASCII = re.compile(r"[ -~]*")
# Printable ASCII over several lines: a `|` block, unless a line ends in a space (then `"`).
_BLOCK_ASCII = re.compile(r"[ -~\n]*")


def _plain_tag(value: str) -> str:
    """The tag a plain `value` reads back with (Resolver.resolve, as the serializer asks it)."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _implicitly_str(value: str) -> bool:
    """Whether a plain `value` reads back as a string (else the emitter quotes it)."""
    return _plain_tag(value) == _STR_TAG


def _double_quoted(text: str) -> str:
    """Emitter.write_double_quoted on one line (no folding: the width is never reached)."""
    parts = ['"']
    for ch in text:
        if ch in '"\\\x85\u2028\u2029\ufeff' or not ("\x20" <= ch <= "\x7e" or "\xa0" <= ch <= "\ud7ff"
                                                     or "\ue000" <= ch <= "\ufffd"):
            if ch in Emitter.ESCAPE_REPLACEMENTS:
                parts.append("\\" + Emitter.ESCAPE_REPLACEMENTS[ch])
            elif ch <= "\xff":
                parts.append("\\x%02X" % ord(ch))
            elif ch <= "\uffff":
                parts.append("\\u%04X" % ord(ch))
            else:
                parts.append("\\U%08X" % ord(ch))
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)


_LINE_START = re.compile(r"^(?!$)", re.MULTILINE)   # where a line that is not empty starts


class _Literal:
    """A `|` block scalar: its indicator line, then its lines, indented where it is written."""
    __slots__ = ("indicator", "text", "keeps", "ends_with_break")

    def __init__(self, text: str):
        hints = ""
        if text[0] in " " + _LINE_BREAKS:
            hints += "2"
        if text[-1] not in _LINE_BREAKS:
            hints += "-"
        elif len(text) == 1 or text[-2] in _LINE_BREAKS:
            hints += "+"
        self.indicator = " |" + hints + "\n"
        self.text = text
        self.keeps = hints.endswith("+")   # the pure emitter then ends the stream with `...`
        self.ends_with_break = text.endswith("\n")

    def at(self, indent: str) -> str:
        """Every line that is not empty indented (its only line breaks are \\n: the others are escaped)."""
        body = _LINE_START.sub(indent, self.text)
        return self.indicator + body + ("" if self.ends_with_break else "\n")


def _scalar_style(text: str, simple_key: bool) -> str:
    """Emitter.choose_scalar_style for a string as `_string` represents it (block context)."""
    if len(text) > _LONGEST:
        raise _Unsupported
    analysis = Emitter.analyze_scalar(_ANALYSER, text)  # type: ignore[arg-type]
    style = '"' if _SPECIAL.search(text) else "|" if "\n" in text else None
    if style == '"':
        return '"'
    if style is None and _implicitly_str(text):
        if not (simple_key and (analysis.empty or analysis.multiline)) and analysis.allow_block_plain:
            return ""
    if style == "|":
        return "|" if not simple_key and analysis.allow_block else '"'
    if analysis.allow_single_quoted and not (simple_key and analysis.multiline):
        return "'"
    return '"'


def _written(text: str, style: str) -> str:
    if style == "":
        return text
    if style == "'":
        if any(ch in _LINE_BREAKS for ch in text):
            raise _Unsupported  # never so: such text is represented `|` or `"`
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _plain_ascii(text: str) -> bool:
    """Whether the pure emitter writes this printable-ASCII line plain (else it single-quotes it)."""
    return bool(_PLAIN_ASCII.fullmatch(text)) and ": " not in text and " #" not in text and text[-1] != ":" \
        and _implicitly_str(text)


def _string_value(text: str) -> str | _Literal:
    """How a string is written after `key:` or `-`: its leading space included, or a block."""
    if len(text) > _LONGEST:
        raise _Unsupported
    if _LINE_ASCII.fullmatch(text):
        return " " + text if _plain_ascii(text) else " '" + text.replace("'", "''") + "'"
    if "\n" in text and _BLOCK_ASCII.fullmatch(text) and " \n" not in text and text[-1] != " ":
        return _Literal(text)
    style = _scalar_style(text, simple_key=False)
    return _Literal(text) if style == "|" else " " + _written(text, style)


def _string_key(text: str) -> str:
    """A mapping key and its colon; a key PyYAML would write as `? key` is left to it."""
    if not text or len(text) > _KEY_LONGEST or any(ch in _LINE_BREAKS for ch in text):
        raise _Unsupported
    if _LINE_ASCII.fullmatch(text):
        return (text if _plain_ascii(text) else "'" + text.replace("'", "''") + "'") + ":"
    return _written(text, _scalar_style(text, simple_key=True)) + ":"


def _float_text(value: float) -> str:
    """SafeRepresenter.represent_float's text; plain, as long as it reads back as a float."""
    if value != value:
        text = ".nan"
    elif value == float("inf"):
        text = ".inf"
    elif value == -float("inf"):
        text = "-.inf"
    else:
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
    if _plain_tag(text) != _FLOAT_TAG:
        raise _Unsupported
    return " " + text


_VALUES: dict[str, str | _Literal] = {}   # string -> how it is written as a value (the same in every document)
_KEYS: dict[str, str] = {}
_CACHE_LIMIT = 500_000
_INDENTS = ["\n" + " " * n for n in range(64)]


def cache_clear() -> None:
    """Forget how strings were written (a render starts from empty caches, as the backends' do)."""
    _VALUES.clear()
    _KEYS.clear()


def _newline(indent: int) -> str:
    return _INDENTS[indent] if indent < len(_INDENTS) else "\n" + " " * indent


class _Writer:
    """PyYAML's block layout (indent 2, indentless sequences under a key, `{}`/`[]` when empty).

    `out` holds the pieces; only a block scalar's piece ends with a line break (the next line then
    starts without one); the stream starts with one that `text` drops, so the first line does too."""

    def __init__(self) -> None:
        self.out: list[str] = ["\n"]
        self.keeping: str | None = None   # the last piece, when it is a `|+` block (then `...` follows)

    def scalar(self, value: object, indent: int) -> None:
        kind = type(value)
        written: str | _Literal
        if kind is str:
            cached = _VALUES.get(value)  # type: ignore[call-overload]
            if cached is None:
                if len(_VALUES) > _CACHE_LIMIT:
                    _VALUES.clear()
                cached = _VALUES[value] = _string_value(value)  # type: ignore[index, arg-type]
            written = cached
        elif value is None:
            written = " null"
        elif kind is bool:
            written = " true" if value else " false"
        elif kind is int:
            written = " " + str(value)
        elif kind is float:
            written = _float_text(value)  # type: ignore[arg-type]
        elif isinstance(value, str):   # a str, int or float subclass (an enum member): its plain value
            self.scalar(str.__str__(value), indent)
            return
        elif isinstance(value, int) and not isinstance(value, bool):
            written = " " + str(int.__index__(value))
        elif isinstance(value, float):
            written = _float_text(float.__float__(value))
        else:
            raise _Unsupported
        if isinstance(written, _Literal):
            piece = written.at(" " * (indent + 2))
            self.out.append(piece)
            self.keeping = piece if written.keeps else None
        else:
            self.out.append(written)

    @staticmethod
    def key(key: object) -> str:
        if type(key) is not str:
            if not isinstance(key, str):
                raise _Unsupported   # PyYAML writes numbers, None and booleans as keys; the generator never does
            key = str.__str__(key)
        written = _KEYS.get(key)
        if written is None:
            if len(_KEYS) > _CACHE_LIMIT:
                _KEYS.clear()
            written = _KEYS[key] = _string_key(key)
        return written

    def mapping(self, mapping: dict[object, object], indent: int, inline: bool) -> None:
        out = self.out
        append = out.append
        keys, values = _KEYS, _VALUES
        newline = _newline(indent)
        for key, value in mapping.items():
            if inline:   # the first key of a mapping in a sequence: on the line of its `-`
                append(" ")
                inline = False
            elif out[-1][-1] == "\n":
                append(" " * indent)
            else:
                append(newline)
            written = keys.get(key) if type(key) is str else None
            append(written if written is not None else self.key(key))
            if type(value) is str:
                line = values.get(value)
                if type(line) is str:
                    append(line)
                    continue
            self.value(value, indent, True)

    def sequence(self, items: list[object] | tuple[object, ...], indent: int, inline: bool) -> None:
        out = self.out
        append = out.append
        newline = _newline(indent) + "-"
        for item in items:
            if inline:
                append(" -")
                inline = False
            elif out[-1][-1] == "\n":
                append(" " * indent + "-")
            else:
                append(newline)
            self.value(item, indent, False)

    def value(self, value: object, indent: int, in_mapping: bool) -> None:
        """`value` after `key:` (in_mapping) or `-`, in a collection indented `indent`."""
        kind = type(value)
        if kind is dict:
            if value:
                self.mapping(value, indent + 2, not in_mapping)  # type: ignore[arg-type]
            else:
                self.out.append(" {}")
        elif kind is list or kind is tuple:
            if not value:
                self.out.append(" []")
            elif in_mapping:   # a sequence under a key is not indented
                self.sequence(value, indent, False)  # type: ignore[arg-type]
            else:
                self.sequence(value, indent + 2, True)  # type: ignore[arg-type]
        else:
            self.scalar(value, indent)

    def document(self, data: object, explicit_start: bool) -> None:
        kind = type(data)
        if explicit_start:
            self.out.append("---")
        if kind is dict and data:
            self.mapping(data, 0, False)  # type: ignore[arg-type]
        elif (kind is list or kind is tuple) and data:
            self.sequence(data, 0, False)  # type: ignore[arg-type]
        elif kind is dict or kind is list or kind is tuple:
            self.out.append((" " if explicit_start else "") + ("{}" if kind is dict else "[]"))
        else:
            raise _Unsupported   # a lone scalar: PyYAML ends it with `...`
        if self.out[-1][-1] != "\n":
            self.out.append("\n")

    def text(self) -> str:
        if self.keeping is not None and self.out[-1] is self.keeping:
            self.out.append("...\n")
        self.out[0] = ""
        return "".join(self.out)


def emit(data: object, explicit_start: bool = False) -> str | None:
    """`data` as the pure-Python emitter writes it, or None where this writer leaves it to PyYAML."""
    return emit_all([data], explicit_start)


def emit_all(documents: list[object], explicit_start: bool = True) -> str | None:
    if not documents:
        return None
    writer = _Writer()
    try:
        for document in documents:
            writer.document(document, explicit_start)
    except _Unsupported:
        return None
    return writer.text()


def _pyyaml(data: object, dumper: type[SafeRepresenter]) -> str:
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000, indent=2)


def dump(data: object, dumper: type[SafeRepresenter] | None = None) -> str:
    """`data` as YAML, byte for byte what PyYAML's pure-Python emitter writes: the direct writer where
    it can, else libyaml's emitter where it writes the same and is present, else the pure one.
    `dumper` forces one of DUMPERS."""
    if dumper is None:
        text = emit(data)
        if text is not None:
            return text
        dumper = DUMPERS[0] if _libyaml_writes_it_the_same(data) else PureDumper
    return _pyyaml(data, dumper)


def dump_all(documents: list[object], dumper: type[SafeRepresenter] | None = None) -> str:
    if dumper is None:
        text = emit_all(documents)
        if text is not None:
            return text
        dumper = DUMPERS[0] if _libyaml_writes_it_the_same(documents) else PureDumper
    return yaml.dump_all(documents, Dumper=dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1_000_000, indent=2, explicit_start=True)
