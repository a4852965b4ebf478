"""The Alertmanager backend: routing and inhibition per environment."""
from __future__ import annotations

from generator import conventions as c
from generator.alertmanager.routing import config
from generator.model.catalog import Catalog
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header


def render(catalog: Catalog) -> dict[str, str]:
    telemetry = catalog.telemetry
    if telemetry is None:
        return {}
    group_labels = sorted({label for slo in catalog.slos for label in slo.sli.group_by})
    head = header([catalog.relative(telemetry.defined_in), "slo/"],
                  definitions_hash([telemetry.canonical(), group_labels]))
    return {c.alertmanager_file(env.name): head + yamlout.dump(config(env, group_labels))
            for env in telemetry.environments}
