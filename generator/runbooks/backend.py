"""The runbooks backend: one runbook per alert, and the README of out/."""
from __future__ import annotations

from generator.model.catalog import Catalog
from generator.runbooks import prose
from generator.runbooks.contents import render_runbooks
from generator.writer.headers import GENERATOR, definitions_hash, markdown_header


def render(catalog: Catalog) -> dict[str, str]:
    files = {path: markdown_header(source, definitions_hash(inputs)) + markdown
             for path, (markdown, source, inputs) in render_runbooks(catalog).items()}
    files["README.md"] = prose.render(catalog.root, "out_readme.md.j2", generator=GENERATOR)
    return files
