"""Instrumentation helpers for KFM services: the metric contract, emitted right.

    kfm = KfmInstruments()                      # its own CollectorRegistry
    with kfm.pipeline_run("river-gauges", "processed", run_id=run_id):
        ...                                     # failure if this raises
    kfm.promotion("river-gauges", {"schema": "pass", "license": "pass"})
    start_http_server(9464, registry=kfm.registry)

Every name, label, bounded value and bucket comes from the contract (kfm_instrument.contract, through
kfm_instrument.metrics). A value a bounded label does not allow is refused with
ValueError, never turned into a new series. Correlation IDs (run_id,
audit_ref, dataset_version_id) go on spans only, never on metric labels.
Counters are pre-initialised at 0 for every bounded value (outcomes at
construction, a dataset's and a route's series when first seen), so the
first error is seen by rate() and absent() does not fire on a quiet SLI.

The helpers load opentelemetry and prometheus_client when first used (`kfm_instrument.KfmInstruments`),
not when `kfm_instrument.contract` is imported: the contract, which the compiler reads, needs neither.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kfm_instrument.instruments import (GATE_RESULTS_BEST_FIRST, SPECIMEN, EvidenceResolution, KfmInstruments,
                                            contract_exposition)

__all__ = ["GATE_RESULTS_BEST_FIRST", "SPECIMEN", "EvidenceResolution", "KfmInstruments", "contract_exposition"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kfm_instrument import instruments
        return getattr(instruments, name)
    raise AttributeError(f"module 'kfm_instrument' has no attribute {name!r}")
