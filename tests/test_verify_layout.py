"""The verify step reads a PrometheusRule's groups, and a rule file's, from the text where the writer laid
it out: what promtool is given must be the groups the object holds, and a rule file is covered by an
object only where its groups are the same bytes. Any other layout is parsed into Python data."""
from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import conventions as c
from generator.checks import verify


def _load(text: str):
    return yaml.safe_load(text)


def test_every_rendered_object_gives_promtool_the_groups_it_holds(rendered):
    objects = {p: t for p, t in rendered.items() if verify._is_prometheus_rule(p)}
    assert objects
    for path, text in objects.items():
        parsed = verify._parsed(path, text)
        assert parsed.problem == "" and parsed.rule_text is not None and parsed.group_keys is not None, path
        assert _load(parsed.rule_text) == {"groups": _load(text)["spec"]["groups"]}, path
        assert len(parsed.group_keys) == len(_load(text)["spec"]["groups"]), path


def test_every_rendered_rule_file_is_read_from_its_text(rendered):
    for path, text in rendered.items():
        if verify._is_rule_file(path):
            parsed = verify._parsed(path, text)
            assert parsed.group_keys is not None and len(parsed.group_keys) == len(_load(text)["groups"]), path


def _an_object(catalog, rendered) -> tuple[str, str]:
    path = c.prometheus_rule_file(catalog.slos[0].service, 1)
    return path, rendered[path]


def test_an_object_in_another_layout_is_parsed_and_covers_no_rule_file(catalog, rendered):
    path, text = _an_object(catalog, rendered)
    data = _load(text)
    for other in (yaml.safe_dump(data, indent=4, sort_keys=False),          # sequences indented under keys
                  yaml.safe_dump(data, default_flow_style=True),            # flow style
                  text + "  extra: {}\n",                                  # a key after groups
                  text.replace("\nspec:\n", "\nstatus: {}\nspec:\n", 1)):   # a fifth top-level key
        files = dict(rendered)
        files[path] = other
        parsed = verify._parsed(path, other)
        assert parsed.group_keys is None, other[:200]
        assert parsed.rule_text is not None
        assert _load(parsed.rule_text)["groups"] == _load(other)["spec"]["groups"]
        objects = {p: verify._parsed(p, t) for p, t in files.items() if verify._is_prometheus_rule(p)}
        rest = {p: verify._parsed(p, t) for p, t in files.items() if verify._is_rule_file(p)}
        covered = verify._covered_rule_files(files, objects, rest)
        assert not any(owner == path for owner in covered.values())


def test_a_rule_file_written_otherwise_is_not_covered(catalog, rendered):
    """The same data in other bytes (a quoted name): checked on its own, not taken as the object's."""
    slo = catalog.slos[0]
    rule_file = c.rules_file(slo.name)
    files = dict(rendered)
    files[rule_file] = files[rule_file].replace(f"- name: {c.rule_group(slo.name)}\n",
                                                f"- name: '{c.rule_group(slo.name)}'\n", 1)
    assert files[rule_file] != rendered[rule_file]
    assert _load(files[rule_file]) == _load(rendered[rule_file])
    objects = {p: verify._parsed(p, t) for p, t in files.items() if verify._is_prometheus_rule(p)}
    rest = {p: verify._parsed(p, t) for p, t in files.items() if verify._is_rule_file(p)}
    covered = verify._covered_rule_files(files, objects, rest)
    assert rule_file not in covered
    assert c.rules_file(catalog.slos[1].name) in covered


def test_broken_yaml_in_the_writers_layout_is_reported(catalog, rendered):
    path, text = _an_object(catalog, rendered)
    broken = text.replace("    rules:\n", "    rules: [\n", 1)
    assert verify._parsed(path, broken).problem.startswith("does not parse back")


def test_group_blocks_refuse_other_shapes():
    assert verify._group_blocks("- name: a\n  rules: []\n- name: b\n  rules: []\n") == [
        "- name: a\n  rules: []\n", "- name: b\n  rules: []\n"]
    for other in ("", "# a comment\n- name: a\n", " - name: a\n", "- name: a\n rules: []\n",
                  "- name: a\n  rules: []", "- name: a\n---\n", "- name: a\nother: 1\n"):
        assert verify._group_blocks(other) is None, other


# Rule-like groups with hostile text: block scalars with leading spaces and kept line breaks, quotes,
# document markers and comment signs inside values, keys of every style the writer meets.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["", " ", "\n", "a\n\n", "  x\n y", "---", "...", "- x", "# c", "k: v", "|", "a \nb", "\t", "é\n", "x\n  "])
_VALUES = st.recursive(_TEXT | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none(),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
                       max_leaves=12)
_GROUPS = st.lists(st.fixed_dictionaries({"name": _TEXT, "rules": st.lists(st.dictionaries(_TEXT, _VALUES,
                                                                                          max_size=4), max_size=3)},
                                         optional={"interval": _TEXT}), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(_GROUPS)
def test_the_groups_read_from_an_objects_text_are_the_groups_it_holds(groups):
    from generator.kubernetes import gitops
    from generator.writer import yamlout

    text = "# header\n" + yamlout.dump(gitops.prometheus_rule("kfm-slo-x", "x", groups, "0" * 64))
    path = c.prometheus_rule_file("x", 1)
    parsed = verify._parsed(path, text)
    assert parsed.problem == ""
    assert _load(parsed.rule_text) == {"groups": groups}   # from the text, or (another layout) re-written
    if parsed.group_keys is not None:   # the text path: one key per group, equal keys for equal text
        assert len(parsed.group_keys) == len(groups)
