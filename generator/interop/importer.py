"""`import sloth|openslo FILES...`: read every spec, check every SLO with the definition API, then write
one definitions file per service, all or nothing (exit 2 and one line per problem otherwise)."""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator.interop import openslo, sloth
from generator.interop.model import (MAX_DOCUMENTS, spec_file, MAX_FILE_BYTES, ImportedSLO, ImportProblem, MetricSpec,
                                     build_metric, build_slo, declarations)
from generator.interop.pythonsource import module_source
from generator.model.catalog import Catalog, load
from generator.model.problems import DefinitionError
from generator.model.slo import SLO

EXIT_OK, EXIT_REFUSED = 0, 2
FORMATS = ("sloth", "openslo")


def module_file(service: str) -> str:
    return service.replace("-", "_") + ".py"


def read_documents(path: Path, shown: str, problems: list[ImportProblem]) -> list[dict[str, Any]]:
    try:
        if not path.is_file():
            problems.append(ImportProblem(shown, "", "file", "not a file"))
            return []
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(ImportProblem(shown, "", "file", f"larger than {MAX_FILE_BYTES // 2**20} MiB"))
            return []
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(ImportProblem(shown, "", "file", "not UTF-8 text"))
        return []
    except OSError as error:
        problems.append(ImportProblem(shown, "", "file", f"cannot be read ({error.strerror})"))
        return []
    try:
        documents = []
        for document in yaml.safe_load_all(text):
            documents.append(document)
            if len(documents) > MAX_DOCUMENTS:
                problems.append(ImportProblem(shown, "", "file", f"more than {MAX_DOCUMENTS} documents"))
                return []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        problems.append(ImportProblem(shown, "", where, f"not YAML: {getattr(error, 'problem', None) or error}"))
        return []
    except RecursionError:
        problems.append(ImportProblem(shown, "", "yaml", "nested too deeply"))
        return []
    found = []
    flat: list[object] = []
    for document in documents:   # a document may be a list of objects (as OpenSLO's examples are)
        flat.extend(document if isinstance(document, list) else [document])
    for index, document in enumerate(flat):
        if document is None:
            continue
        if not isinstance(document, dict) or not all(isinstance(k, str) for k in document):
            problems.append(ImportProblem(shown, "", f"document {index + 1}",
                                          f"expected a mapping, got {type(document).__name__}"))
            continue
        found.append(document)
    if not found and not problems:
        problems.append(ImportProblem(shown, "", "file", "holds no document"))
    return found


def read_specs(kind: str, files: list[Path], problems: list[ImportProblem]) -> list[ImportedSLO]:
    slos: list[ImportedSLO] = []
    openslo_documents: list[tuple[dict[str, Any], str]] = []
    reporters: dict[str, Callable[[str, str, str], None]] = {}
    for path in files:
        shown = path.as_posix()
        documents = read_documents(path, shown, problems)

        def problem(slo: str, field: str, message: str, shown: str = shown) -> None:
            problems.append(ImportProblem(shown, slo, field, message))

        reporters[shown] = problem
        if kind == "sloth":
            for document in documents:
                if openslo.is_openslo(document):
                    if document.get("apiVersion") != openslo.V1ALPHA:
                        problem("", "apiVersion", f"{str(document.get('apiVersion'))[:40]}: Sloth reads OpenSLO "
                                                  f"{openslo.V1ALPHA} only; use `import openslo` for OpenSLO v1")
                        continue
                    slos.extend(openslo.read([document], shown, problem))
                else:
                    slos.extend(sloth.read(document, shown, problem))
        else:
            openslo_documents.extend((document, shown) for document in documents)
    if openslo_documents:   # references resolve across every file of the import
        slos.extend(openslo.read_all(openslo_documents, reporters))
    return slos


def _catalog(root: Path, problems: list[ImportProblem]) -> Catalog | None:
    try:
        return load(root)
    except DefinitionError as error:
        for p in error.problems[:20]:
            problems.append(ImportProblem(p.relative_to(root).file, "", "project",
                                          f"the project does not load ({p.definition}: {p.field}: {p.message}); "
                                          "fix it before importing"))
        return None


def run(kind: str, files: list[Path], root: Path, out_dir: Path, owner: str, force: bool,
        say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
        drop_labels: tuple[str, ...] = ()) -> int:
    problems: list[ImportProblem] = []
    catalog = _catalog(root, problems)
    slos = read_specs(kind, files, problems) if catalog is not None else []
    if catalog is None:
        return _refuse(problems, say)
    teams = sorted(t.name for t in catalog.teams)
    target_dir = out_dir if out_dir.is_absolute() else root / out_dir
    by_file: dict[str, list[ImportedSLO]] = {}
    for slo in slos:
        chosen = owner or slo.owner
        if not chosen:
            problems.append(ImportProblem(slo.source, slo.name, "owner", "the spec names no owner (labels.owner or "
                                          f"labels.team): give --owner TEAM, one of {', '.join(teams)}"))
            continue
        if chosen not in teams:
            problems.append(ImportProblem(slo.source, slo.name, "owner", f"{chosen[:80]!r} is not a team of "
                                          f"alerts/teams.py ({', '.join(teams)}): give --owner TEAM, or declare the "
                                          "team there first"))
            continue
        slo.owner = chosen
        _secrets(slo, set(drop_labels), problems)
        by_file.setdefault(module_file(slo.service), []).append(slo)
    replaced = {str((target_dir / name).resolve()) for name in by_file} if force else set()
    existing = {s.name: catalog.relative(s.defined_in) for s in catalog.slos if s.defined_in not in replaced
                and str(Path(s.defined_in).resolve()) not in replaced}
    seen: dict[str, str] = {}
    for name, group in sorted(by_file.items()):
        path = target_dir / name
        if path.exists() and not force:
            problems.append(ImportProblem(group[0].source, group[0].name, "file",
                                          f"{_shown(path, root)} exists: refusing to overwrite it (give --force)"))
        for slo in group:
            if slo.name in existing:
                problems.append(ImportProblem(slo.source, slo.name, "name",
                                              f"an SLO of that name is defined in {existing[slo.name]}"))
            elif slo.name in seen:
                problems.append(ImportProblem(slo.source, slo.name, "name", f"imported twice (also from {seen[slo.name]})"))
            seen.setdefault(slo.name, slo.source)
    kept_metrics = [m for m in catalog.metrics if str(Path(m.defined_in).resolve()) not in replaced]
    all_slos = [s for group in by_file.values() for s in group]
    metrics = declarations(all_slos, kept_metrics)
    sources = _sources(kind, by_file, metrics, target_dir, root, problems)
    if problems:
        return _refuse(problems, say)
    for slo in all_slos:
        for note in sorted(set(slo.notes)):
            say(f"note: {slo.source}: SLO {slo.name!r}: {' '.join(note.split())}")
    try:
        _write_all(target_dir, sources)
    except OSError as error:
        say(f"error: cannot write {_shown(target_dir, root)}: {error.strerror or error}; nothing written")
        return 3
    for name in sorted(sources):
        print(f"wrote {_shown(target_dir / name, root)} ({len(by_file[name])} SLO(s))")
    return EXIT_OK


def _looks_secret(line: str) -> bool:
    from generator.checks.gates import SECRET_PATTERNS
    return any(pattern.search(line) for _, pattern in SECRET_PATTERNS)


def _secrets(slo: ImportedSLO, drop: set[str], problems: list[ImportProblem]) -> None:
    """Text the no-literal-secrets gate would refuse in out/ is refused here, where the spec can still be
    fixed: a label named like a credential (routing_key, api_token) with a literal value is left out only
    when --drop-label names it."""
    for where, labels in (("labels", slo.labels), ("alerting.page.labels", slo.page.labels),
                          ("alerting.ticket.labels", slo.ticket.labels)):
        for name, value in sorted(labels.items()):
            if not _looks_secret(f"      {name}: {value}"):
                continue
            if name in drop:
                del labels[name]
                slo.notes.append(f"label {name!r} ({where}) left out (--drop-label): the no-literal-secrets gate "
                                 "refuses a credential-like label with a literal value")
                continue
            problems.append(ImportProblem(slo.source, slo.name, f"{where}.{name}", f"{name}: {value[:40]} looks like "
                                          "a literal credential to the no-literal-secrets gate; rename the label in "
                                          f"the spec, or give --drop-label {name} to leave it out"))
    for where, text in (("description", slo.description), ("runbook", slo.runbook)):
        for line in text.splitlines():
            if _looks_secret(line):
                problems.append(ImportProblem(slo.source, slo.name, where, f"{line[:60]!r} looks like a literal "
                                              "credential to the no-literal-secrets gate; remove it from the spec"))


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _sources(kind: str, by_file: dict[str, list[ImportedSLO]], metrics: list[MetricSpec], target_dir: Path,
             root: Path, problems: list[ImportProblem]) -> dict[str, str]:
    """Each file's source, checked: the definition API accepts every object, and the source, run, defines
    exactly those objects."""
    sources: dict[str, str] = {}
    placed: set[str] = set()
    for name, group in sorted(by_file.items()):
        path = str((target_dir / name).resolve())
        group.sort(key=lambda s: s.name)
        mine = [m for m in metrics if m.name not in placed and _reads(group, m)]
        placed |= {m.name for m in mine}
        expected_slos, expected_metrics, ok = [], [], True
        for slo in group:
            try:
                expected_slos.append(build_slo(slo, path))
            except DefinitionError as error:
                ok = False
                for p in error.problems:
                    problems.append(ImportProblem(slo.source, slo.name, p.field, p.message))
        for metric in mine:
            try:
                expected_metrics.append(build_metric(metric, path))
            except DefinitionError as error:
                ok = False
                for p in error.problems:
                    problems.append(ImportProblem(group[0].source, group[0].name, f"metric {metric.name}: {p.field}",
                                                  p.message))
        if not ok:
            continue
        ok = _event_shapes(expected_slos, group, problems)
        if not ok:
            continue
        files = sorted({spec_file(s.source) for s in group})
        docstring = (f"{group[0].service}: imported from {'Sloth' if kind == 'sloth' else 'OpenSLO'} "
                     f"({', '.join(files)}) by "
                     f"`python -m generator import {kind}`.\n\nThis file is now the source of truth: edit it like "
                     "any other definitions file (docs/definitions.md, docs/migrating.md).")
        source = module_source(docstring, group, mine)
        namespace: dict[str, Any] = {"__file__": path, "__name__": "kfm_imported_check"}
        try:
            exec(compile(source, path, "exec"), namespace)   # noqa: S102 - our own generated code
        except Exception as error:   # a bug of the emitter, never of the spec: say so plainly
            problems.append(ImportProblem(group[0].source, group[0].name, "generated code",
                                          f"internal error of the importer ({type(error).__name__}: {error}); "
                                          "please report it with the spec"))
            continue
        if list(namespace.get("SLOS", [])) != expected_slos or list(namespace.get("METRICS", [])) != expected_metrics:
            problems.append(ImportProblem(group[0].source, group[0].name, "generated code",
                                          "internal error of the importer: the generated file does not define the "
                                          "SLOs it was checked as; please report it with the spec"))
            continue
        sources[name] = source
    return sources


def _reads(group: list[ImportedSLO], metric: MetricSpec) -> bool:
    from generator.interop.pythonsource import _selectors
    from generator.promql.selectors import parse_selector
    names = {parse_selector(text).metric for slo in group for text in _selectors(slo)}
    return bool(names & {metric.name, metric.name + "_count", metric.name + "_bucket", metric.name + "_sum"})


def _event_shapes(slos: list[SLO], group: list[ImportedSLO], problems: list[ImportProblem]) -> bool:
    """The generated tests must find label values that the selectors' regular expressions accept."""
    from generator.model.kinds.events import EventSLI
    from generator.prometheus.testseries import event_shape
    ok = True
    for slo, spec in zip(slos, group):
        if not isinstance(slo.sli, EventSLI):
            continue
        try:
            event_shape(slo, slo.sli)
        except DefinitionError as error:
            ok = False
            for p in error.problems:
                problems.append(ImportProblem(spec.source, spec.name, p.field, p.message))
    return ok


def _write_all(target_dir: Path, sources: dict[str, str]) -> None:
    """Every file written beside its target first, then renamed into place: no partial file, ever."""
    target_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, source in sorted(sources.items()):
            handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=target_dir)
            staged.append((name, Path(temp_name)))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(source)
        for name, staged_path in staged:
            os.replace(staged_path, target_dir / name)
    finally:
        for _, leftover in staged:
            if leftover.exists():
                leftover.unlink()


def _refuse(problems: list[ImportProblem], say: Callable[[str], None]) -> int:
    unique = list(dict.fromkeys(problems))
    say(f"error: {len(unique)} problem(s) in the specs; nothing written")
    for problem in unique:
        say(problem.line())
    return EXIT_REFUSED
