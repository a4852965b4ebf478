"""Prose output (runbooks, out/README.md) from Jinja2 templates, with StrictUndefined: a name a
template uses and the generator does not give is an error, never an empty string.

The templates ship in generator/templates/. A project overrides one by putting a file at the same
relative path under `templates/` beside slo/ (templates/runbooks/burn.md.j2, say); the overriding
files then enter the hash of every file rendered from templates, so a change to them rewrites those
files. Alert annotations are Prometheus (Go) templates and never pass through here.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2

from .problems import DefinitionError, Problem

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
OVERRIDES = "templates"   # folder of a project's own templates, beside slo/

_MARKDOWN_ACTIVE = str.maketrans({ch: "\\" + ch for ch in "\\`[]<>|"})


def plain(text: str) -> str:
    """User text shown as written inside Markdown: one line, no code span, link, HTML or table-cell
    break (a team's channel, a description in a table). Emphasis is left alone: cosmetic at worst."""
    return " ".join(text.split("\n")).translate(_MARKDOWN_ACTIVE)


@lru_cache(maxsize=8)
def _environment(root: Path) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(root / OVERRIDES)),
                                  jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))])
    environment = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                                     keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["plain"] = plain
    return environment


def render(root: Path, name: str, **context: object) -> str:
    """The template `name` rendered; a project's override that fails is a definition error naming it."""
    root = Path(root)
    try:
        template = _environment(root).get_template(name)
        return template.render(**context)
    except jinja2.TemplateError as error:
        override = root / OVERRIDES / name
        if not override.is_file():
            raise   # a shipped template: the generator's own bug
        line = f" (line {error.lineno})" if isinstance(error, jinja2.TemplateSyntaxError) else ""
        raise DefinitionError([Problem(f"{OVERRIDES}/{name}", f"template {name!r}", "template",
                                       f"{error.message or error}{line}")]) from None


def overrides_digest(root: Path) -> list[str]:
    """[sha256 of the project's template overrides] when it has any, else [] (hashes stay as they were)."""
    folder = Path(root) / OVERRIDES
    files = sorted(p for p in folder.rglob("*.j2") if p.is_file()) if folder.is_dir() else []
    if not files:
        return []
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return [digest.hexdigest()]
