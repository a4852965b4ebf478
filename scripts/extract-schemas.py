#!/usr/bin/env python3
"""Extract the JSON schemas kubeconform validates our Kubernetes objects against, into schemas/.

Nothing here is written by hand: every schema is converted from a file inside a Go module of a
pinned version, fetched with `go mod download` from the Go module proxy (so it works wherever Go
does, offline once the module cache has it):

- custom resources (PrometheusRule, ThanosRuler, OpenTelemetryCollector) from the CustomResourceDefinitions
  the operators release: each served version's openAPIV3Schema becomes
  schemas/<group>/<kind>_<version>.json (the layout of kubeconform's openapi2jsonschema.py and of
  the CRDs-catalog: -schema-location 'schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json');
- built-in kinds (ConfigMap) from the Kubernetes OpenAPI document in k8s.io/kubernetes
  (api/openapi-spec/swagger.json), $refs inlined, in the layout of kubernetes-json-schema:
  schemas/v<k8s>-standalone-strict/<kind>-<version>.json (-schema-location
  'schemas/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json'
  with -kubernetes-version <k8s>).

The conversion is our own equivalent of kubeconform's scripts/openapi2jsonschema.py (strict
variant) and of openapi2jsonschema --kubernetes --stand-alone --strict; schemas/README.md (written
by this script) lists the rules and where each file came from.

Usage: .venv/bin/python scripts/extract-schemas.py [--check] [--out DIR]
  --check  regenerate in memory and fail (exit 1), listing files, if schemas/ differs.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

# ---- pinned sources (change a version here, run the script, commit schemas/) ----------------
KUBERNETES = ("k8s.io/kubernetes", "v1.37.2")
PROMETHEUS_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", "v0.85.0")
OPENTELEMETRY_OPERATOR = ("github.com/open-telemetry/opentelemetry-operator", "v0.137.0")

# (module, path inside the module, kinds wanted from it): every served version of each kind.
CRDS = [
    (PROMETHEUS_OPERATOR, "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
     ["PrometheusRule"]),
    (PROMETHEUS_OPERATOR, "example/prometheus-operator-crd/monitoring.coreos.com_thanosrulers.yaml",
     ["ThanosRuler"]),
    (OPENTELEMETRY_OPERATOR, "config/crd/bases/opentelemetry.io_opentelemetrycollectors.yaml",
     ["OpenTelemetryCollector"]),
]
KUBERNETES_OPENAPI = "api/openapi-spec/swagger.json"
# Built-in kinds: definition names in the Kubernetes OpenAPI (v2) document.
BUILTINS = ["io.k8s.api.core.v1.ConfigMap"]
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

ROOT = Path(__file__).resolve().parent.parent
DRAFT4 = "http://json-schema.org/draft-04/schema#"  # kubeconform compiles with Draft 4 by default
REF_PREFIX = "#/definitions/"

# Keys whose value is a map of name -> schema, a schema, or a list of schemas (JSON Schema draft 4
# as used by OpenAPI): the walkers below only descend through these, so a field that happens to be
# called "properties" or "items" is never mistaken for a keyword.
SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
SCHEMA_ONE = ("items", "additionalProperties", "not", "additionalItems")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "items")


class ExtractError(Exception):
    pass


# ---- fetching ------------------------------------------------------------------------------------
def module_dir(module: tuple[str, str]) -> Path:
    """The unpacked module in the Go module cache (downloaded from the proxy when missing)."""
    path, version = module
    if shutil.which("go") is None:
        raise ExtractError("Go is missing: the schemas are extracted from Go modules (go mod download); "
                           "install Go (Debian: apt-get install golang)")
    env = dict(os.environ, GOWORK="off", GO111MODULE="on")
    with tempfile.TemporaryDirectory() as outside_any_module:
        done = subprocess.run(["go", "mod", "download", "-json", f"{path}@{version}"], cwd=outside_any_module,
                              env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError:
        info = {}
    if done.returncode != 0 or "Dir" not in info:
        raise ExtractError(f"go mod download {path}@{version} failed: "
                           f"{info.get('Error') or done.stderr.strip() or done.stdout.strip()}")
    return Path(info["Dir"])


def source_file(module: tuple[str, str], inner: str) -> tuple[bytes, str]:
    data = (module_dir(module) / inner).read_bytes()
    return data, hashlib.sha256(data).hexdigest()


# ---- schema walking ------------------------------------------------------------------------------
def subschemas(node: dict):
    """Yield (key, child schema) for every direct sub-schema of a schema node."""
    for key in SCHEMA_MAPS:
        value = node.get(key)
        if isinstance(value, dict):
            for name in sorted(value):
                if isinstance(value[name], dict):
                    yield key, value[name]
    for key in SCHEMA_ONE:
        value = node.get(key)
        if isinstance(value, dict):
            yield key, value
    for key in SCHEMA_LISTS:
        value = node.get(key)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield key, item


def walk(node: dict, visit) -> None:
    visit(node)
    for _, child in subschemas(node):
        walk(child, visit)


def deny_additional_properties(node: dict) -> None:
    """Strict mode (as openapi2jsonschema --strict, and kubectl/apiserver strict field validation):
    an object schema that lists its properties rejects any other property, unless it already says
    what other properties may be, or is marked x-kubernetes-preserve-unknown-fields (the API server
    keeps unknown fields there, e.g. OpenTelemetryCollector spec.config)."""
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        node["additionalProperties"] = False


def int_or_string(node: dict) -> None:
    """format: int-or-string (Kubernetes' IntOrString) is no JSON Schema format: accept both."""
    if node.get("format") == "int-or-string":
        node.pop("format")
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]


def openapi_nullable(node: dict) -> None:
    """OpenAPI's nullable: true means null is a valid value; JSON Schema says it with the type."""
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]


def defaulted_not_required(node: dict) -> None:
    """The API server applies a CRD's defaults before it validates, so a required property that has
    a default may be left out (e.g. OpenTelemetryCollector v1alpha1 spec.managementState)."""
    if "required" in node:
        props = node.get("properties", {})
        kept = [name for name in node["required"] if "default" not in props.get(name, {})]
        if kept:
            node["required"] = kept
        else:
            del node["required"]


def kubernetes_nullable(schema: dict) -> None:
    """As kubernetes-json-schema does for built-in kinds: an optional field may be null (the API
    server decodes null as 'not set'); a required one may not. The root stays an object."""
    def visit(node: dict) -> None:
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            if name not in required:
                _null_type(prop)
        for key in ("additionalProperties", "items"):
            if isinstance(node.get(key), dict):
                _null_type(node[key])
    walk(schema, visit)


def _null_type(node: dict) -> None:
    if isinstance(node.get("type"), str) and node["type"] != "null":
        node["type"] = [node["type"], "null"]


def inline_refs(node, definitions: dict, trail: tuple[str, ...] = ()):
    """A copy of node with every local $ref replaced by (a copy of) its target, recursively. The
    referring node's own keys (its description) win over the target's."""
    if isinstance(node, list):
        return [inline_refs(item, definitions, trail) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith(REF_PREFIX) or ref[len(REF_PREFIX):] not in definitions:
            raise ExtractError(f"unresolvable $ref {ref}")
        name = ref[len(REF_PREFIX):]
        if name in trail:
            raise ExtractError(f"recursive $ref {' -> '.join(trail + (name,))}: cannot inline")
        target = inline_refs(definitions[name], definitions, trail + (name,))
        target.update({k: inline_refs(v, definitions, trail) for k, v in node.items() if k != "$ref"})
        return target
    return {k: inline_refs(v, definitions, trail) for k, v in node.items()}


# ---- conversions ---------------------------------------------------------------------------------
def builtin_schema(definitions: dict, name: str) -> tuple[dict, dict]:
    """A stand-alone strict schema for a built-in kind, and its group/version/kind."""
    schema = inline_refs(definitions[name], definitions, (name,))
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if len(gvks) != 1:
        raise ExtractError(f"{name}: expected one x-kubernetes-group-version-kind, found {gvks}")
    gvk = gvks[0]
    schema.setdefault("type", "object")
    props = schema.get("properties", {})
    if "apiVersion" not in props or "kind" not in props:
        raise ExtractError(f"{name}: no apiVersion/kind properties")
    api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
    props["apiVersion"]["enum"] = [api_version]
    props["kind"]["enum"] = [gvk["kind"]]
    walk(schema, int_or_string)
    kubernetes_nullable(schema)
    walk(schema, deny_additional_properties)
    schema["$schema"] = DRAFT4
    return schema, gvk


def object_meta_schema(definitions: dict) -> dict:
    """ObjectMeta as the built-in kinds have it (nullable optional fields, strict)."""
    schema = inline_refs(definitions[OBJECT_META], definitions, (OBJECT_META,))
    schema.setdefault("type", "object")
    walk(schema, int_or_string)
    kubernetes_nullable(schema)
    walk(schema, deny_additional_properties)
    return schema


def crd_schemas(crd: dict, object_meta: dict) -> list[tuple[str, str, str, dict]]:
    """(group, kind, version, schema) for every served version of a CustomResourceDefinition."""
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    found = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        source = (version.get("schema") or {}).get("openAPIV3Schema") or \
                 (spec.get("validation") or {}).get("openAPIV3Schema")
        if not source:
            raise ExtractError(f"{kind} {version['name']}: no openAPIV3Schema")
        schema = copy.deepcopy(source)
        schema.setdefault("type", "object")
        # The API server validates a custom resource's metadata as ObjectMeta, which CRDs leave as a
        # bare object: put ObjectMeta there, so that a misspelled metadata field fails too.
        meta = schema.get("properties", {}).get("metadata")
        if meta is not None and set(meta) <= {"type", "description"}:
            schema["properties"]["metadata"] = copy.deepcopy(object_meta)
        walk(schema, int_or_string)
        walk(schema, openapi_nullable)
        walk(schema, defaulted_not_required)
        walk(schema, deny_additional_properties)  # root included (DENY_ROOT_ADDITIONAL_PROPERTIES)
        schema["$schema"] = DRAFT4
        found.append((group, kind, version["name"], schema))
    return found


def dump(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---- the whole set -------------------------------------------------------------------------------
def build() -> dict[str, str]:
    """Every file of schemas/, relative path -> text."""
    files: dict[str, str] = {}
    rows = []  # provenance table

    k8s_bytes, k8s_sha = source_file(KUBERNETES, KUBERNETES_OPENAPI)
    definitions = json.loads(k8s_bytes)["definitions"]
    k8s_version = KUBERNETES[1].lstrip("v")
    builtin_dir = f"v{k8s_version}-standalone-strict"
    for name in BUILTINS:
        schema, gvk = builtin_schema(definitions, name)
        # kubeconform's KindSuffix: -<first part of the group, or the version for core> -<version>
        suffix = f"-{gvk['group'].split('.')[0]}-{gvk['version']}" if gvk["group"] else f"-{gvk['version']}"
        rel = f"{builtin_dir}/{gvk['kind'].lower()}{suffix}.json"
        files[rel] = dump(schema)
        rows.append((rel, f"{KUBERNETES[0]}@{KUBERNETES[1]}", KUBERNETES_OPENAPI, f"definitions `{name}`", k8s_sha))
    object_meta = object_meta_schema(definitions)

    for module, inner, kinds in CRDS:
        data, sha = source_file(module, inner)
        wanted = set(kinds)
        for doc in yaml.safe_load_all(data):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            if doc["spec"]["names"]["kind"] not in wanted:
                continue
            wanted.discard(doc["spec"]["names"]["kind"])
            for group, kind, version, schema in crd_schemas(doc, object_meta):
                rel = f"{group}/{kind.lower()}_{version}.json"
                files[rel] = dump(schema)
                rows.append((rel, f"{module[0]}@{module[1]}", inner, f"{kind} `{version}`", sha))
        if wanted:
            raise ExtractError(f"{module[0]}@{module[1]} {inner}: no CRD for {sorted(wanted)}")

    files["README.md"] = readme(sorted(rows), builtin_dir, k8s_version)
    return files


def readme(rows, builtin_dir: str, k8s_version: str) -> str:
    table = "\n".join(f"| `{rel}` | `{module}` | `{inner}`, {what} | `{sha[:16]}` |"
                      for rel, module, inner, what, sha in rows)
    return f"""# JSON schemas for kubeconform

GENERATED by `scripts/extract-schemas.py`: do not edit. Regenerate with `make schemas`
(`.venv/bin/python scripts/extract-schemas.py`; `--check` fails when this folder differs from a
fresh extraction). Versions are pinned at the top of the script; Go fetches the modules with
`go mod download` from the Go module proxy (or reuses the module cache).

The tests (`tests/kubeconform_runner.py`) run kubeconform `-strict` with only these two locations,
so a kind with no schema here fails validation:

```
-kubernetes-version {k8s_version}
-schema-location 'schemas/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json'
-schema-location 'schemas/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json'
```

| file | Go module | path in the module | sha256 of that file (prefix) |
|---|---|---|---|
{table}

How each file is made (our equivalent of kubeconform's `scripts/openapi2jsonschema.py` for CRDs,
and of `openapi2jsonschema --kubernetes --stand-alone --strict`, which builds
kubernetes-json-schema's `{builtin_dir}`-style folders, for built-in kinds):

- custom resources: every served version's `openAPIV3Schema`, one file per version;
  `additionalProperties: false` on every object schema that lists `properties` and says nothing
  about other properties, the root included, except where the CRD sets
  `x-kubernetes-preserve-unknown-fields: true` (the API server keeps unknown fields there, e.g.
  OpenTelemetryCollector `spec.config`); `nullable: true` becomes a `"null"` type; a required
  property that has a `default` is no longer required (the API server defaults first); the bare
  `metadata: {{type: object}}` of the CRD is replaced by Kubernetes' ObjectMeta (below), which
  is how the API server validates it;
- built-in kinds: the definition from the Kubernetes OpenAPI v2 document with every `$ref`
  inlined; `apiVersion` and `kind` restricted (`enum`) to the kind's
  `x-kubernetes-group-version-kind`; optional fields may be `null`, required ones may not;
  `additionalProperties: false` as above;
- both: `format: int-or-string` becomes `oneOf` string/integer; `$schema` is draft-04 (the
  draft kubeconform compiles with); keys sorted, 2-space indent.
"""


def write(out: Path, files: dict[str, str]) -> None:
    """Replace out/ with exactly these files (stale schemas are removed)."""
    out.mkdir(parents=True, exist_ok=True)
    for existing in sorted(out.rglob("*"), reverse=True):
        rel = existing.relative_to(out).as_posix()
        if existing.is_file() and rel not in files:
            existing.unlink()
        elif existing.is_dir() and not any(existing.iterdir()):
            existing.rmdir()
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)


def differences(out: Path, files: dict[str, str]) -> list[str]:
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} if out.is_dir() else set()
    problems = [f"missing: {rel}" for rel in sorted(set(files) - on_disk)]
    problems += [f"not generated: {rel}" for rel in sorted(on_disk - set(files))]
    problems += [f"differs: {rel}" for rel in sorted(set(files) & on_disk)
                 if (out / rel).read_text(encoding="utf-8") != files[rel]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "schemas", help="default: schemas/ in the repository")
    parser.add_argument("--check", action="store_true", help="fail if --out differs from a fresh extraction")
    args = parser.parse_args(argv)
    try:
        files = build()
    except ExtractError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(args.out, files)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print(f"{args.out} is not what scripts/extract-schemas.py extracts: run make schemas", file=sys.stderr)
            return 1
        print(f"{args.out}: {len(files)} files up to date")
        return 0
    write(args.out, files)
    for rel in sorted(files):
        print(args.out / rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
