"""Indented JSON (the dashboards): `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`,
byte for byte, several times faster.

With an indent, the standard library encodes in Python, one generator per container; `dumps`
writes the same text with one list of pieces, strings escaped by the same C function. A value it
does not know (a key that is not a string, a type other than the JSON ones) goes to `json.dumps`,
which writes it or raises as before. tests/test_jsonout.py compares both on random values.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any


class _Unsupported(Exception):
    pass


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _write(value: Any, out: list[str], newline: str) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key in value:
            if type(key) is not str:
                raise _Unsupported   # json.dumps writes numbers, booleans and None as keys: it does it
        for key in sorted(value):
            out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            _write(value[key], out, inner)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _write(item, out, inner)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float(value))
    else:
        raise _Unsupported   # a subclass (json.dumps knows how it writes an enum member) or another type


def dumps(value: Any) -> str:
    out: list[str] = []
    try:
        _write(value, out, "\n")
    except (_Unsupported, RecursionError):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return "".join(out)
