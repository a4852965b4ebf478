"""Prose output (runbooks, out/README.md) from Jinja2 templates, with StrictUndefined: a name a
template uses and the generator does not give is an error, never an empty string.

The templates ship in generator/runbooks/templates/. A project overrides one by putting a file at the same
relative path under `templates/` beside slo/ (templates/runbooks/burn.md.j2, say); the overriding
files then enter the hash of every file rendered from templates, so a change to them rewrites those
files. Alert annotations are Prometheus (Go) templates and never pass through here.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2

from generator.model.problems import DefinitionError, Problem

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
    """The template `name` rendered; a project's override that fails is a definition error naming it.

    An override is the project's code: it can fail any way Python can (1 / 0, a recursive macro, a
    macro the shipped template imports and the override no longer defines), not only with a Jinja
    error. Which one failed is the deepest override in the traceback; when the failure shows in a
    shipped template instead, the overridden partials it uses are named. With no override involved
    the failure is the generator's own bug, and is raised as it is."""
    root = Path(root)
    try:
        template = _environment(root).get_template(name)
        return template.render(**context)
    except Exception as error:  # noqa: BLE001 - classified below; re-raised when no override is involved
        culprits = _culprits(root, name, error)
        if not culprits:
            raise   # only shipped templates ran: the generator's own bug
        if isinstance(error, jinja2.TemplateNotFound):
            message = f"no template {error.name!r} (neither under {OVERRIDES}/ nor shipped)"
        elif isinstance(error, jinja2.TemplateError):
            message = str(error.message or error)
        else:
            message = f"{type(error).__name__}: {error}"
        message = " ".join(message.split())[:300]
        raise DefinitionError([
            Problem(f"{OVERRIDES}/{culprit}", f"template {culprit!r}", "template",
                    message + (f" (line {line})" if line else "")
                    + ("" if direct else f", rendering the shipped {name}, which uses this override"))
            for culprit, line, direct in culprits]) from None


def _overrides(root: Path) -> list[str]:
    """The project's templates (names relative to templates/), sorted."""
    folder = root / OVERRIDES
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.j2") if p.is_file())


def _culprits(root: Path, name: str, error: BaseException) -> list[tuple[str, int | None, bool]]:
    """(override, line, whether the failure happened in it) for a failed render; [] if none is involved."""
    overrides = _overrides(root)
    if not overrides:
        return []
    folder = (root / OVERRIDES).resolve()

    def override_of(filename: str | None) -> str | None:
        if not filename:
            return None
        try:
            relative = Path(filename).resolve().relative_to(folder).as_posix()
        except (ValueError, OSError):
            return None
        return relative if relative in overrides else None

    if isinstance(error, jinja2.TemplateSyntaxError):
        culprit = override_of(error.filename)
        if culprit:
            return [(culprit, error.lineno, True)]
    deepest: tuple[str, int | None, bool] | None = None
    tb = error.__traceback__
    while tb is not None:   # Jinja rewrites the traceback: a template's frames name its file and line
        found = override_of(tb.tb_frame.f_code.co_filename)
        if found:
            deepest = (found, tb.tb_lineno, True)
        tb = tb.tb_next
    if deepest:
        return [deepest]
    if name in overrides:
        return [(name, getattr(error, "lineno", None), True)]
    shipped = {p.relative_to(PACKAGE_TEMPLATES).as_posix() for p in PACKAGE_TEMPLATES.rglob("*.j2")}
    # The failure shows in a shipped template: blame the partials it may import or include (an override
    # of another rendered template is not used by this one).
    return [(o, None, False) for o in overrides if o not in shipped or o.rsplit("/", 1)[-1].startswith("_")]


def override_problems(root: Path) -> list[Problem]:
    """Every override under templates/ that is not UTF-8 text or does not parse (unknown filters
    included): found when the definitions load, with every other problem, not at the first render."""
    root = Path(root)
    environment = _environment(root)
    found = []
    for name in _overrides(root):
        path = root / OVERRIDES / name
        where = (f"{OVERRIDES}/{name}", f"template {name!r}", "template")
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            found.append(Problem(*where, f"not UTF-8 text (byte {error.start})"))
            continue
        except OSError as error:
            found.append(Problem(*where, f"cannot be read: {error.strerror or error}"))
            continue
        try:
            environment.compile(source, name, str(path))
        except jinja2.TemplateSyntaxError as error:
            found.append(Problem(*where, " ".join(f"{error.message or error}".split())[:300]
                                 + f" (line {error.lineno})"))
        except Exception as error:  # noqa: BLE001 - a parser crash (nesting too deep) is the template's problem
            found.append(Problem(*where, f"does not parse: {type(error).__name__}: {error}"[:300]))
    return found


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
