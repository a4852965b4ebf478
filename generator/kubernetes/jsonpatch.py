"""The smallest JSON Patch (RFC 6902) that turns one document into another.

Overlays state only what differs from the base, so a reviewer reads
"dev keeps 100% of traces" instead of a second copy of the whole config.
Maps are compared key by key (sorted, so the output is deterministic); lists
of the same length element by element; anything else is replaced whole.
"""
from __future__ import annotations

import copy
from typing import Any


def pointer(parts: list[str | int]) -> str:
    """A JSON Pointer (RFC 6901): '~' and '/' in keys are escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def diff(old: Any, new: Any, at: list[str | int] | None = None) -> list[dict[str, Any]]:
    at = at or []
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in sorted(set(old) | set(new), key=lambda k: (type(k).__name__, str(k))):
            if key not in new:
                ops.append({"op": "remove", "path": pointer(at + [key])})
            elif key not in old:
                ops.append({"op": "add", "path": pointer(at + [key]), "value": new[key]})
            else:
                ops.extend(diff(old[key], new[key], at + [key]))
        return ops
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [op for index, (a, b) in enumerate(zip(old, new)) for op in diff(a, b, at + [index])]
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": pointer(at), "value": new}]


def apply(document: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply test/add/remove/replace ops to a copy of document (for tests and checks)."""
    result = copy.deepcopy(document)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        if not parts:
            result = copy.deepcopy(op["value"])
            continue
        parent = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
        if op["op"] == "test":
            here = parent[last]
            if here != op["value"] or type(here) is not type(op["value"]):
                raise ValueError(f"test failed at {op['path']}: {here!r} != {op['value']!r}")
        elif op["op"] == "remove":
            del parent[last]
        elif op["op"] == "add" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(op["value"]))
        elif op["op"] in ("add", "replace"):
            parent[last] = copy.deepcopy(op["value"])
        else:
            raise ValueError(f"unsupported op {op['op']!r}")
    return result
