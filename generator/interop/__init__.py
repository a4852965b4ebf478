"""Interop: import Sloth and OpenSLO specs as definitions files, export SLOs as OpenSLO v1.

    python -m generator import sloth SPEC.yaml...    [--root R] [--out-dir slo] [--owner TEAM] [--force]
    python -m generator import openslo FILE.yaml...  [--root R] [--out-dir slo] [--owner TEAM] [--force]
    python -m generator export openslo --out DIR     [--root R] [--referenced]

An importer reads the spec into plain data (`model.ImportedSLO`), which is checked by building the real
definition objects, then written as readable Python (`pythonsource`). A spec the API cannot express is
refused, one line per problem naming the file, the SLO and why; nothing is written then.
"""
