"""The collector backend: the plain collector config of every environment and the Collector Builder
manifest of the components they use."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from generator import conventions as c
from generator.collector.config import LocalSinks, builder_manifest, config, order_problems
from generator.model.catalog import Catalog, per_catalog
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header


@per_catalog
def configs(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The collector config of each environment, by name (none without telemetry/ definitions)."""
    telemetry = catalog.telemetry
    found: dict[str, dict[str, Any]] = {}
    if telemetry is None:
        return found
    for env in telemetry.environments:
        cfg = config(telemetry, env)
        problems = order_problems(cfg)
        if problems:   # the generator's own pipelines (collector.config): no definition reorders them
            raise ValueError(f"collector config for {env.name}: {'; '.join(problems)}")
        found[env.name] = cfg
    return found


def base_config(catalog: Catalog) -> dict[str, Any]:
    """The config of the base environment (the last one): what the kustomize base's collector runs."""
    assert catalog.telemetry is not None, "only with telemetry/ definitions"
    return configs(catalog)[catalog.telemetry.environments[-1].name]


def telemetry_header(catalog: Catalog) -> str:
    assert catalog.telemetry is not None, "only with telemetry/ definitions"
    return header([catalog.relative(catalog.telemetry.defined_in)], definitions_hash([catalog.telemetry.canonical()]))


def render(catalog: Catalog) -> dict[str, str]:
    telemetry = catalog.telemetry
    if telemetry is None:
        return {}
    head = telemetry_header(catalog)
    by_env = configs(catalog)
    files = {c.collector_config_file(name): head + yamlout.dump(cfg) for name, cfg in by_env.items()}
    # The local (test) variant's components belong in the build too.
    local = LocalSinks(1, 2, 3, 4, 5, Path("traces.json"), Path("logs.json"))
    local_config = config(telemetry, telemetry.environments[0], local)
    files[c.COLLECTOR_BUILDER_MANIFEST] = head + yamlout.dump(builder_manifest([*by_env.values(), local_config]))
    return files
