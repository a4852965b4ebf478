"""The Prometheus backend: one rule file and one generated promtool test file per SLO, the invariants'
rule file, and the rule groups per service that the Kubernetes backend wraps in PrometheusRule objects."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from generator import conventions as c, parallel
from generator.model.catalog import Catalog, per_catalog
from generator.model.slo import SLO
from generator.prometheus.rules import RuleCounts, invariants_group, slo_groups
from generator.prometheus.testgen import test_file, test_subject
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header


@dataclass(frozen=True)
class RuleSet:
    """The rule groups of one service (or of the invariants), with the files and hash they come from."""

    stem: str                    # the service, or conventions.INVARIANTS_FILE_STEM
    groups: list[dict[str, Any]]
    units: list[list[dict[str, Any]]]   # groups that stay in one object: an SLO's two groups
    sources: list[str]
    digest: str
    invariants: bool = False


def _units(slo: SLO, max_rules: int = 0) -> list[list[dict[str, Any]]]:
    """The SLO's groups that stay in one object: its alerting and budget groups together, and each group
    of constants (thousands of datasets) on its own."""
    groups = slo_groups(slo, max_rules)[0]
    constants = c.constants_rule_group(slo.name, 1)[:-1]
    return ([[g for g in groups if not g["name"].startswith(constants)]]
            + [[g] for g in groups if g["name"].startswith(constants)])


@per_catalog
def rule_sets(catalog: Catalog) -> list[RuleSet]:
    """Every service's rule groups (SLOs by service, then name), then the invariants'."""
    found = []
    by_service = sorted(catalog.slos, key=lambda s: (s.service, s.name))
    for service, items in groupby(by_service, key=lambda s: s.service):
        slos = list(items)
        units = [unit for slo in slos for unit in _units(slo, catalog.max_rules_per_group())]
        found.append(RuleSet(service, [group for unit in units for group in unit], units, sorted({catalog.relative(s.defined_in) for s in slos}),
                             definitions_hash([s.canonical() for s in slos])))
    if catalog.invariants:
        group, _ = invariants_group(catalog.invariants)
        found.append(RuleSet(c.INVARIANTS_FILE_STEM, [group], [[group]],
                             sorted({catalog.relative(i.defined_in) for i in catalog.invariants}),
                             definitions_hash([i.canonical() for i in catalog.invariants]), invariants=True))
    return found


def rule_counts(catalog: Catalog) -> RuleCounts:
    total = RuleCounts(0, 0, 0, len(catalog.invariants))
    for slo in catalog.slos:
        total += slo_groups(slo, catalog.max_rules_per_group())[1]
    return total


def _test_text(head: str, rule_file: str, slo: SLO) -> str:
    document, comments = test_file(rule_file, slo)
    tests = document.pop("tests")
    parts = [head]
    if any(feature == "native_histograms" for _, feature in slo.sli.prometheus_features()):
        parts.append(f"{c.NEEDS_PROMETHEUS_3}: its input series are native histograms, which promtool 2.x "
                     "cannot read.\n")
    elif slo.query_offset_seconds:
        parts.append(f"{c.NEEDS_PROMETHEUS_3}: its rule groups set query_offset (Prometheus 2.53 or later), "
                     "which promtool 2.42 refuses.\n")
    parts += [yamlout.dump(document), "tests:\n"]
    for test, (title, lines) in zip(tests, comments):
        parts.append(f"# --- {title}\n")
        parts.extend(f"# {line}\n" for line in lines)
        parts.append(yamlout.dump([test]))
    return "".join(parts)


def slo_files(slo: SLO, catalog: Catalog) -> dict[str, str]:
    """The SLO's rule file and its generated test file (with a sampled rule file where its kind samples)."""
    files: dict[str, str] = {}
    groups, _ = slo_groups(slo, catalog.max_rules_per_group())
    head = header([catalog.relative(slo.defined_in)], definitions_hash([slo.canonical()]))
    files[c.rules_file(slo.name)] = head + yamlout.dump({"groups": groups})
    subject, why_smaller = test_subject(slo)
    rule_file = f"../rules/{slo.name}.rules.yaml"
    if why_smaller:
        rule_file = c.sampled_rules_file(slo.name).rsplit("/", 1)[1]
        files[c.sampled_rules_file(slo.name)] = (
            head + f"# The rules of {slo.name} {why_smaller[0]}\n" + "".join(f"# {line}\n" for line in why_smaller[1:])
            + yamlout.dump({"groups": slo_groups(subject, catalog.max_rules_per_group())[0]}))
    files[c.rules_test_file(slo.name)] = _test_text(head, rule_file, subject)
    return files


def _test_shape(slo: SLO) -> str:
    """What the SLO's generated tests simulate, roughly (SLOs alike in it share their simulated scenarios)."""
    return repr((type(slo.sli).__name__, slo.error_budget, slo.all_pairs(), slo.alerting.min_events,
                 slo.query_offset_seconds))


def render(catalog: Catalog) -> dict[str, str]:
    files: dict[str, str] = {}
    for one in parallel.map_items(lambda slo: slo_files(slo, catalog), catalog.slos, alike=_test_shape):
        files.update(one)
    for rules in rule_sets(catalog):
        if rules.invariants:   # an SLO's groups are in its own rule file already
            files[c.rules_file(rules.stem)] = header(rules.sources, rules.digest) + yamlout.dump({"groups": rules.groups})
    return files
