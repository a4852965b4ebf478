"""Deterministic YAML: insertion order kept, multi-line strings as blocks.

The bytes are those of PyYAML's pure-Python emitter. libyaml's emitter (PyYAML's C extension, in
the pinned wheel) writes them several times faster, and the same for every document but a few
shapes (`_libyaml_writes_it_the_same`; tests/test_yamlout.py compares both on random documents);
those, and every document on a machine without libyaml, go through the pure-Python emitter.
"""
from __future__ import annotations

import re

import yaml
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


def _libyaml_writes_it_the_same(data: object) -> bool:
    """Whether libyaml writes `data` exactly as the pure-Python emitter does. It does not for text
    beyond the Basic Multilingual Plane (libyaml escapes it, PyYAML prints it), nor for a key that is
    empty or holds anything but printable ASCII (`? ''`, `? "\\r"`); every key the generator writes is
    a label, field or component name. tests/test_yamlout.py searches for other differences."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item and max(item) > "\uffff":
                return False
        elif isinstance(item, dict):
            for key, value in item.items():
                if not isinstance(key, str) or _PLAIN_KEY.fullmatch(key) is None:
                    return False
                stack.append(value)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


def dump(data: object, dumper: type[SafeRepresenter] | None = None) -> str:
    """`data` as YAML, byte for byte what PyYAML's pure-Python emitter writes: libyaml's emitter where
    it writes the same and is present, else the pure one. `dumper` forces one of DUMPERS."""
    if dumper is None:
        dumper = DUMPERS[0] if _libyaml_writes_it_the_same(data) else PureDumper
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000, indent=2)


def dump_all(documents: list[object]) -> str:
    dumper = DUMPERS[0] if _libyaml_writes_it_the_same(documents) else PureDumper
    return yaml.dump_all(documents, Dumper=dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1_000_000, indent=2, explicit_start=True)
