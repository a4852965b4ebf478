"""Rule evaluation cost on a Prometheus holding a month of history: kfm vs Sloth, side by side.

The same availability SLOs as bench/sloth_side_by_side.py (one per route,
99.9% over 30d), compiled by kfm and by Sloth v0.16.0, evaluated by a real
Prometheus against the same synthetic history:

1. History: for each route, a seeded month of counters
   (`http_server_request_duration_seconds_count` by `http_response_status_code`
   200 / 404 / 500; busy days, quiet nights and weekends, two incidents:
   tests/backfill_history.py), one sample a minute, written as OpenMetrics and
   turned into blocks by `promtool tsdb create-blocks-from openmetrics`.
2. Recordings: both tools' 30-day period ratios read recordings over 30d
   (kfm: its 10m tiles, `kfm_slo:{bad,total}:sum10m`, recorded every 5m; Sloth:
   `slo:sli_error:ratio_rate5m`, every minute),
   so those are backfilled over the whole month with `promtool tsdb
   create-blocks-from rules`, in dependency passes (tests/tsdb_backfill.py).
   A recording that no rule reads over a range is read only at its last
   sample (the 5m lookback), so it is backfilled over the last hour only:
   backfilling kfm's 30d period ratio every 2m over a whole month would read
   ~3 billion samples per SLO, and it changes nothing at the end of history.
   The blocks are then compacted by Prometheus (overlaps merged) like the
   blocks of a long-running server.
3. Measurement: two Prometheus servers on 127.0.0.1 (a copy of the data each),
   one with kfm's rule files, one with Sloth's, running at the same time. Rule
   evaluation is an instant query at the group's evaluation time, and the
   servers' own rule manager runs at the wall clock (2026, no data), so every
   rule expression is instead sent to the query API at the end of history with
   `stats=all`, alternating the tools, several rounds; the engine's
   evalTotalTime and totalQueryableSamples are kept, and the median per rule
   is summed per group and per tool. Group intervals come from the servers
   (`prometheus_rule_group_interval_seconds`), hence runs per hour and
   engine CPU-seconds per hour. The servers' process CPU per group (including
   HTTP and JSON, 10ms ticks) is a cross-check. A recording rule with an empty
   result at the end of history stops the run (missing history looks cheap).
4. A Markdown report: per group, per tool with the kfm/Sloth ratio, and the
   costliest rules of each tool.

`--pods N` multiplies the raw series per route (an `instance` label): Sloth's
window recordings rate() the raw series over up to 3d, kfm's read two
recorded series per SLO whatever the raw cardinality.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, ROOT / "tests", BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from backfill_history import DAY, MONTH_START, generate  # noqa: E402
from generator import conventions as c  # noqa: E402
from generator.model.durations import parse_duration  # noqa: E402
from sloth_side_by_side import METRIC, ours, sloth_spec  # noqa: E402
from prometheus_tools import build_prometheus3, version_of  # noqa: E402
from tsdb_backfill import PrometheusOnData, import_openmetrics, move_blocks, recording_passes, run  # noqa: E402

STEP = 60                   # seconds between raw samples
MAX_STEPS = 11000           # points of one range query: promtool's rule backfill splits by block duration
TAIL = 3600                 # seconds of history for recordings only read at their last sample
STATUSES = ("200", "404", "500")  # 500 matches both tools' bad selector, =~"5.."
SEED = 4242
TOP = 4                     # costliest rules listed per tool
SLO_NAME = re.compile(r"(governed-api-)?route-\d{4}-availability")


# ---------------------------------------------------------------- history


def write_history(path: Path, slos: int, pods: int, days: int) -> tuple[int, int]:
    """OpenMetrics history for every route (and pod); returns (samples, end timestamp)."""
    family = METRIC
    samples, end = 0, 0
    with path.open("w") as out:
        out.write(f"# HELP {family} Requests (the _count of the duration histogram).\n# TYPE {family} unknown\n")
        for route in range(slos):
            for pod in range(pods):
                history = generate(days=days, step=STEP, seed=SEED + 1000 * route + pod, start=MONTH_START,
                                   outcomes=STATUSES, bad_outcome="500")
                end = history.end
                instance = f',instance="pod-{pod}"' if pods > 1 else ""
                for status, values in history.counters.items():
                    prefix = (f'{METRIC}{{http_route="/v1/route-{route:04d}",'
                              f'http_response_status_code="{status}"{instance}}} ')
                    out.write("".join(f"{prefix}{v} {history.time(i)}\n" for i, v in enumerate(values)))
                    samples += len(values)
        out.write("# EOF\n")
    return samples, end


# ---------------------------------------------------------------- rules


def sloth_rules(slos: int, folder: Path) -> str:
    sloth = shutil.which("sloth") or str(Path.home() / ".cache/kfm-observability/sloth-v0.16.0/sloth")
    if not Path(sloth).exists():
        raise SystemExit("needs sloth: scripts/install-sloth.sh")
    spec, out = folder / "sloth-spec.yaml", folder / "sloth-out.yaml"
    spec.write_text(sloth_spec(slos))
    result = subprocess.run([sloth, "generate", "-i", str(spec), "-o", str(out)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return out.read_text()


def range_reads(groups: list[dict]) -> dict[str, int]:
    """How much history (seconds before the end) each recorded series needs: the longest range over
    which a rule reads it, plus what that rule itself needs (kfm's tiles are read over 30d, so the 2m
    rates they sum over 10m are needed over 30d + 10m)."""
    rules = [rule for group in groups for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    reads: dict[str, list[tuple[str | None, int]]] = {}   # series -> (reader's record, range)
    for name in recorded:
        pattern = re.compile(re.escape(name) + r"(?:\{[^}]*\})?\[(\w+)(?::\w*)?\]")   # a range or a subquery
        reads[name] = [(rule.get("record"), parse_duration(w)) for rule in rules for w in pattern.findall(rule["expr"])]
    needed: dict[str, int] = {}

    def need(name: str, seen: tuple[str, ...] = ()) -> int:
        if name not in needed:
            needed[name] = max((span + (need(reader, seen + (name,)) if reader and reader not in seen else 0)
                                for reader, span in reads[name]), default=0)
        return needed[name]
    return {name: need(name) for name in recorded if need(name)}


def block_duration(eval_interval: str) -> str:
    """The longest block promtool accepts (2h x 3^n) whose evaluations fit one range query."""
    hours = 2
    while hours * 3 * 3600 // parse_duration(eval_interval) <= MAX_STEPS - 100:
        hours *= 3
    return f"{hours}h"


def backfill(promtool: str, folder: Path, data: Path, tools: dict[str, list[dict]], start: int, end: int,
             eval_interval: str) -> int:
    """Recordings of every tool, in dependency passes; a series read over W gets W (+ TAIL) of history.

    As tests/tsdb_backfill.py: one rule file path for every run (same evaluation offsets), each run
    into its own output directory, Prometheus restarted after each pass so the next one reads it.
    """
    per_tool = {tool: (recording_passes(groups), range_reads(groups)) for tool, groups in tools.items()}
    levels = max(len(passes) for passes, _ in per_tool.values())
    rule_file = folder / "backfill" / "rules.yaml"  # one path for every run: same evaluation offsets
    rule_file.parent.mkdir()
    server = PrometheusOnData(folder / "backfill", data)
    server.start()
    blocks = 0
    try:
        for level in range(levels):
            by_start: dict[int, list[dict]] = {}
            for passes, reads in per_tool.values():
                if level >= len(passes):
                    continue
                for group in passes[level]:
                    for rule in group["rules"]:
                        needed = reads.get(rule["record"], 0) + TAIL
                        begin = max(start, end - needed)
                        chosen = by_start.setdefault(begin, [])
                        if not chosen or chosen[-1]["name"] != group["name"]:
                            chosen.append({k: v for k, v in group.items() if k != "rules"} | {"rules": []})
                        chosen[-1]["rules"].append(rule)
            for n, (begin, groups) in enumerate(sorted(by_start.items())):
                rule_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
                output = folder / f"pass-{level}-{n}"
                run(promtool, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={server.url}",
                    f"--start={begin}", f"--end={end}", f"--eval-interval={eval_interval}",
                    f"--max-block-duration={block_duration(eval_interval)}", f"--output-dir={output}",
                    str(rule_file))
                blocks += move_blocks(output, data)
            server.restart()
        settle(server)
    finally:
        server.stop()
    return blocks


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


def metrics_text(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return response.read().decode()


def blocks_on_disk(data: Path) -> list[tuple[int, int]]:
    """(minTime, maxTime) of every block in the data directory, sorted."""
    found = []
    for meta in data.glob("*/meta.json"):
        try:
            block = json.loads(meta.read_text())
        except (OSError, ValueError):  # being written
            continue
        found.append((block["minTime"], block["maxTime"]))
    return sorted(found)


def overlapping(blocks: list[tuple[int, int]]) -> bool:
    return any(b[0] < a[1] for a, b in zip(blocks, blocks[1:]))


def settle(server: PrometheusOnData, timeout: float = 180) -> None:
    """Until the server's compaction has merged the overlapping blocks, as a long-running server's are."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        triggered = _metric(metrics_text(server.url), "prometheus_tsdb_compactions_triggered_total")
        if triggered >= 1 and not overlapping(blocks_on_disk(server.data_dir)):
            time.sleep(2)  # the replaced blocks are deleted after the new one is in place
            return
        time.sleep(2)
    print("warning: overlapping blocks left after compaction", file=sys.stderr)


# ---------------------------------------------------------------- measurement


class RulesPrometheus(PrometheusOnData):
    """PrometheusOnData with rule files (no scraping)."""

    def __init__(self, folder: Path, data_dir: Path, rule_file: Path, eval_interval: str):
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder, data_dir)
        (folder / "prometheus.yml").write_text(yaml.safe_dump(
            {"global": {"evaluation_interval": eval_interval}, "rule_files": [str(rule_file)]}))

    def instant(self, expr: str, at: float) -> dict:
        body = urllib.parse.urlencode({"query": expr, "time": repr(at), "stats": "all"}).encode()
        with urllib.request.urlopen(f"{self.url}/api/v1/query", data=body, timeout=120) as response:
            answer = json.load(response)
        if answer.get("status") != "success":
            raise RuntimeError(f"{expr}: {answer}")
        return answer["data"]

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def group_intervals(self) -> dict[str, float]:
        found = re.findall(r'^prometheus_rule_group_interval_seconds\{rule_group="[^;"]*;([^"]+)"\} (\S+)$',
                           metrics_text(self.url), re.M)
        return {group: float(value) for group, value in found}


@dataclass
class Rule:
    group: str
    name: str
    expr: str
    times: list[float] = field(default_factory=list)   # engine seconds, one per measured round
    samples: int = 0                                    # totalQueryableSamples (deterministic)
    series: int = 0                                     # series in the result
    record: bool = True


@dataclass
class Kind:
    """The same group of every SLO (the SLO's name replaced by <slo>): they add up."""

    tool: str
    name: str
    rules: list[Rule] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)      # server process CPU seconds, one per measured round
    interval: float = 0.0                               # seconds, as the server reports it

    @property
    def groups(self) -> set[str]:
        return {r.group for r in self.rules}

    @property
    def engine(self) -> float:
        return sum(statistics.median(r.times) for r in self.rules)

    @property
    def samples(self) -> int:
        return sum(r.samples for r in self.rules)

    @property
    def per_hour(self) -> float:
        return 3600 / self.interval


def kinds_of(tool: str, groups: list[dict]) -> list[Kind]:
    kinds: dict[str, Kind] = {}
    for group in groups:
        name = SLO_NAME.sub("<slo>", group["name"])
        kind = kinds.setdefault(name, Kind(tool, name))
        kind.rules += [Rule(group["name"], r.get("record") or r["alert"], r["expr"], record="record" in r)
                       for r in group["rules"]]
    return list(kinds.values())


def measure(servers: dict[str, RulesPrometheus], kinds: dict[str, list[Kind]], at: int, repeats: int
            ) -> dict[str, list[float]]:
    """Every rule expression once per round, tools alternating; engine seconds per round per tool.

    Within a tool, rules are sent group kind by group kind (the rules of one group in their order),
    so the server's process CPU can be read per kind.
    """
    rounds: dict[str, list[float]] = {tool: [] for tool in servers}
    tools = list(servers)
    for n in range(repeats + 1):  # round 0 warms the page cache and is dropped
        for tool in (tools if n % 2 else tools[::-1]):
            server, engine = servers[tool], 0.0
            for kind in kinds[tool]:
                cpu = server.cpu_seconds()
                for rule in kind.rules:
                    data = server.instant(rule.expr, at)
                    seconds = data["stats"]["timings"]["evalTotalTime"]
                    engine += seconds
                    rule.samples = data["stats"]["samples"]["totalQueryableSamples"]
                    rule.series = len(data["result"])
                    if n:
                        rule.times.append(seconds)
                if n:
                    kind.cpu.append(server.cpu_seconds() - cpu)
            if n:
                rounds[tool].append(engine)
    return rounds


def check_history(server: RulesPrometheus, expr: str, at: int, expected: int, slos: int) -> None:
    """The 30d range reads see the whole history of recordings (the backfill worked)."""
    result = server.instant(expr, at)["result"]
    counts = [float(r["value"][1]) for r in result]
    if len(counts) != slos or min(counts) < 0.99 * expected:
        raise SystemExit(f"history missing: {expr} -> {counts} (expected {slos} x ~{expected})")


# ---------------------------------------------------------------- report


def table(rows: list[list[str]], header: list[str]) -> str:
    right = ["---" if i < 2 else "---:" for i in range(len(header))]
    return "\n".join("| " + " | ".join(r) + " |" for r in [header, right, *rows])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def report(kinds: dict[str, list[Kind]], rounds: dict[str, list[float]]) -> None:
    rows = []
    for tool in ("kfm", "sloth"):
        for kind in kinds[tool]:
            cpu = statistics.median(kind.cpu)
            rows.append([tool, f"`{kind.name}` x{len(kind.groups)}", f"{kind.interval:g}s",
                         str(len(kind.rules)), f"{kind.engine * 1000:.1f}", f"{cpu * 1000:.0f}",
                         f"{kind.per_hour:g}", f"{kind.engine * kind.per_hour:.2f}", f"{cpu * kind.per_hour:.2f}",
                         f"{kind.samples:,}", f"{kind.samples * kind.per_hour / 1e6:.1f}"])
    print(table(rows, ["tool", "group (x SLOs)", "interval", "rules", "engine ms / run", "process CPU ms / run",
                       "runs / h", "engine CPU-s / h", "process CPU-s / h", "samples / run", "M samples / h"]))

    def total(tool: str, what) -> float:
        return sum(what(kind) for kind in kinds[tool])

    lines = [
        ("rules", lambda k: len(k.rules), "{:.0f}"),
        ("engine ms, every group once (sum of per-rule medians)", lambda k: k.engine * 1000, "{:.1f}"),
        ("process CPU ms, every group once (median per group, incl. HTTP/JSON)",
         lambda k: statistics.median(k.cpu) * 1000, "{:.0f}"),
        ("**engine CPU-s per hour** (each group at its interval)", lambda k: k.engine * k.per_hour, "{:.2f}"),
        ("process CPU-s per hour (each group at its interval)",
         lambda k: statistics.median(k.cpu) * k.per_hour, "{:.2f}"),
        ("samples read, every group once", lambda k: k.samples, "{:,.0f}"),
        ("M samples read per hour", lambda k: k.samples * k.per_hour / 1e6, "{:.1f}"),
    ]
    summary = []
    for label, what, fmt in lines:
        k, s = total("kfm", what), total("sloth", what)
        summary.append([label, fmt.format(k), fmt.format(s), ratio(k, s)])
    spread = {tool: (min(r) * 1000, statistics.median(r) * 1000, max(r) * 1000) for tool, r in rounds.items()}
    summary.append(["engine ms per round, all rules: min / median / max of rounds",
                    "{:.0f} / {:.0f} / {:.0f}".format(*spread["kfm"]),
                    "{:.0f} / {:.0f} / {:.0f}".format(*spread["sloth"]),
                    ratio(spread["kfm"][1], spread["sloth"][1])])
    print()
    print(table(summary, ["", "kfm", "Sloth", "kfm / Sloth"]).replace("| --- | --- |", "| --- | ---: |", 1))

    # where the time goes: the costliest rules, the same rule of every SLO added up
    rows = []
    for tool in ("kfm", "sloth"):
        by_name: dict[str, tuple[Kind, list[Rule]]] = {}
        for kind in kinds[tool]:
            for rule in kind.rules:
                by_name.setdefault(rule.name, (kind, []))[1].append(rule)
        costs = sorted(((sum(statistics.median(r.times) for r in rules), name, kind, rules)
                        for name, (kind, rules) in by_name.items()), key=lambda x: x[:2], reverse=True)
        for engine, name, kind, rules in costs[:TOP]:
            samples = sum(r.samples for r in rules)
            rows.append([tool, f"`{name}` x{len(rules)}", f"{kind.interval:g}s", f"{engine * 1000:.1f}",
                         f"{engine * kind.per_hour:.2f}", f"{samples:,}"])
    print()
    print(table(rows, ["tool", f"costliest rules (top {TOP})", "interval", "engine ms / run", "engine CPU-s / h",
                       "samples / run"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=10, help="availability SLOs, one per route (default 10)")
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30, the SLO period)")
    parser.add_argument("--pods", type=int, default=1, help="raw series per route and status (default 1)")
    parser.add_argument("--eval-interval", default="1m",
                        help="global evaluation interval (default 1m, Prometheus' default; "
                             "kfm's budget group keeps its 2m)")
    parser.add_argument("--repeats", type=int, default=11, help="measured rounds per tool (default 11)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    # Prometheus 3 at the pinned version (PROMETHEUS=/usr/bin/prometheus PROMTOOL3=/usr/bin/promtool runs
    # it on Debian's 2.x): its promtool writes the blocks, its server evaluates the rules.
    promtool, why = build_prometheus3("promtool")
    server_binary, why_server = build_prometheus3("prometheus")
    if not promtool or not server_binary:
        print(f"needs Prometheus 3's promtool and server: {why or why_server}", file=sys.stderr)
        return 1
    os.environ["PROMETHEUS"] = server_binary  # the server tsdb_backfill starts
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="kfm-eval-cost-"))
    servers: dict[str, RulesPrometheus] = {}
    try:
        texts = {"kfm": ours(args.slos), "sloth": sloth_rules(args.slos, folder)}
        groups = {tool: yaml.safe_load(text)["groups"] for tool, text in texts.items()}

        data = folder / "data"
        samples, end = write_history(folder / "history.om", args.slos, args.pods, args.days)
        import_openmetrics(promtool, folder / "history.om", data)
        (folder / "history.om").unlink()
        built = time.monotonic()
        blocks = backfill(promtool, folder, data, groups, MONTH_START, end, args.eval_interval)
        compacted = blocks_on_disk(data)
        backfilled = time.monotonic()

        for tool, text in texts.items():
            shutil.copytree(data, folder / f"data-{tool}")
            (folder / f"{tool}.rules.yaml").write_text(text)
            servers[tool] = RulesPrometheus(folder / f"server-{tool}", folder / f"data-{tool}",
                                            folder / f"{tool}.rules.yaml", args.eval_interval)
        for server in servers.values():
            server.start()
        shutil.rmtree(data)
        evaluations = min(args.days, 30) * DAY // parse_duration(args.eval_interval)
        # kfm's 30d reads are of its tiles, recorded every 5m (their group's interval)
        check_history(servers["kfm"], f"count_over_time({c.TOTAL_TILE_SUM}[30d])", end,
                      min(args.days, 30) * DAY // c.TILE_RECORD_INTERVAL_SECONDS, args.slos)
        check_history(servers["sloth"], "count_over_time(slo:sli_error:ratio_rate5m[30d])", end, evaluations,
                      args.slos)
        kinds = {tool: kinds_of(tool, g) for tool, g in groups.items()}
        for tool, server in servers.items():
            intervals = server.group_intervals()
            for kind in kinds[tool]:
                found = {intervals[g] for g in kind.groups}
                assert len(found) == 1, (kind.name, found)
                kind.interval = found.pop()
        rounds = measure(servers, kinds, end, args.repeats)
        empty = [f"{tool}: {r.group}: {r.name}" for tool in kinds for k in kinds[tool] for r in k.rules
                 if r.record and not r.series]
        if empty:  # a recording with nothing to read would look cheap: the history is incomplete
            raise SystemExit("recording rules with an empty result at the end of history:\n" + "\n".join(empty))
        measured = time.monotonic()
    finally:
        for server in servers.values():
            server.stop()
        if args.keep:
            print(f"work directory kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"# Rule evaluation cost at the end of {args.days} days of history: {args.slos} availability SLOs, "
          f"{args.pods} pod(s) x {len(STATUSES)} statuses per route, global evaluation interval "
          f"{args.eval_interval}\n")
    print(f"Prometheus {version_of(server_binary)}; {samples:,} raw samples (one a minute); {blocks} rule blocks "
          f"backfilled, then compacted by Prometheus to {len(compacted)} blocks"
          f"{' (OVERLAPPING)' if overlapping(compacted) else ''}. Each rule expression is an instant query "
          f"at the end of history (`stats=all`), the two tools alternating, {args.repeats} measured rounds "
          f"after a warm-up; engine ms = evalTotalTime, median per rule, summed; process CPU = the server's "
          f"utime+stime over a group's queries, median of rounds.\n")
    report(kinds, rounds)
    print(f"\ntime: history and blocks {built - began:.0f}s, rule backfill and compaction {backfilled - built:.0f}s, "
          f"measurement {measured - backfilled:.0f}s, total {measured - began:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
