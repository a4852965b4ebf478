"""Deterministic YAML: insertion order kept, multi-line strings as blocks."""
from __future__ import annotations

import re

import yaml


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:  # never write &id001 anchors
        return True


# YAML reads these as line breaks (or cannot print them): such text is written double-quoted, escaped.
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _SPECIAL.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _string)
# A definition may hold a str or int subclass (an enum.StrEnum team name, an IntEnum threshold): the
# validators see its value, and YAML gets that plain value (SafeDumper knows only the exact types).
_Dumper.add_multi_representer(str, lambda dumper, value: _string(dumper, str.__str__(value)))
_Dumper.add_multi_representer(int, lambda dumper, value: dumper.represent_int(int.__index__(value)))
_Dumper.add_multi_representer(float, lambda dumper, value: dumper.represent_float(float.__float__(value)))


def dump(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000, indent=2)


def dump_all(documents: list[object]) -> str:
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1_000_000, indent=2, explicit_start=True)
