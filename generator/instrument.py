"""The instrumentation helpers now live in their own package, kfm_instrument (it depends on
prometheus-client and opentelemetry-api only); this name stays for existing imports."""
from kfm_instrument import GATE_RESULTS_BEST_FIRST, EvidenceResolution, KfmInstruments, contract_exposition

__all__ = ["GATE_RESULTS_BEST_FIRST", "EvidenceResolution", "KfmInstruments", "contract_exposition"]
