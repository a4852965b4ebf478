"""Backfill a Prometheus TSDB with promtool: raw history, then recording rules in passes.

`promtool tsdb create-blocks-from rules` evaluates every recording rule on its
own, with range queries against a running Prometheus, and writes the results
as new blocks; it does not see what it is writing. A rule that reads another
recorded series (the staged windows read the 5m base rates; the remaining
budget reads the period ratio) therefore needs the series it reads to be in
the TSDB already (Prometheus docs, "Backfilling for recording rules",
limitations). So the rules are split into passes by dependency level, and
after each pass the new blocks are moved into the data directory and
Prometheus is restarted (rather than waiting for its periodic reload), so the
next pass reads them.

Other promtool limitations handled here:
- a group's `interval` takes priority over --eval-interval (the budget group
  keeps its 2m);
- alerting rules are not evaluated: they are left out of the pass files;
- evaluation timestamps are offset by a hash of the group's file and name
  (as in a running Prometheus): every pass is written to the same path with the
  same group names, so a rule of a later pass is evaluated at the same
  instants as the rules it reads, as it would be inside one group;
- a range query holds at most 11,000 steps: blocks of 162h (9,720 one-minute
  steps; the default is 2h; --max-block-duration is a hidden flag in 2.42)
  keep a month to 5 blocks per rule;
- running a pass twice over the same range writes the same samples twice (in
  new overlapping blocks): each pass runs once, into its own output directory;
- backfilled blocks overlap one another; Prometheus 2.39+ merges overlapping
  blocks without --storage.tsdb.allow-overlapping-blocks; history must stay out
  of the last 3 hours (the live head block): the month here is in 2024.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
import urllib.request
import json
from pathlib import Path

import yaml

from live_prometheus import find_prometheus, free_port, stop_process, wait_ready

BLOCK_DURATION = "162h"  # 2h x 3^4: a block size promtool accepts; 9,720 one-minute steps


def _reads(expr: str, name: str) -> bool:
    return re.search(re.escape(name) + r"(?![A-Za-z0-9_:])", expr) is not None


def recording_passes(groups: list[dict]) -> list[list[dict]]:
    """Recording rules split into passes: pass n reads only raw series and passes before n.

    Each pass keeps the group names and intervals of the source; alerting
    rules are dropped (promtool does not evaluate them).
    """
    rules = [(group, rule) for group in groups for rule in group["rules"] if "record" in rule]
    recorded = {rule["record"] for _, rule in rules}
    levels: dict[int, int] = {}

    def level(index: int, seen: tuple[int, ...] = ()) -> int:
        if index in seen:
            raise ValueError(f"recording rules read each other in a cycle: {rules[index][1]['record']}")
        if index not in levels:
            expr = rules[index][1]["expr"]
            reads = [i for i, (_, other) in enumerate(rules)
                     if other["record"] != rules[index][1]["record"] and _reads(expr, other["record"])]
            levels[index] = 1 + max((level(i, seen + (index,)) for i in reads), default=-1)
        return levels[index]

    for index in range(len(rules)):
        level(index)
    passes: list[list[dict]] = []
    for n in range(max(levels.values(), default=-1) + 1):
        pass_groups: list[dict] = []
        for group in groups:
            chosen = [rule for i, (g, rule) in enumerate(rules) if g is group and levels[i] == n]
            if chosen:
                copy = {"name": group["name"], "rules": chosen}
                if "interval" in group:
                    copy["interval"] = group["interval"]
                pass_groups.append(copy)
        passes.append(pass_groups)
    assert recorded == {r["record"] for p in passes for g in p for r in g["rules"]}
    return passes


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result


def import_openmetrics(promtool: str, source: Path, data_dir: Path) -> None:
    run(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
        f"--max-block-duration={BLOCK_DURATION}", str(source), str(data_dir))


def backfill_rules(promtool: str, url: str, rule_file: Path, start: int, end: int, output_dir: Path,
                   eval_interval: str) -> None:
    run(promtool, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={url}",
        f"--start={start}", f"--end={end}", f"--eval-interval={eval_interval}",
        f"--max-block-duration={BLOCK_DURATION}", f"--output-dir={output_dir}", str(rule_file))


def move_blocks(source: Path, data_dir: Path) -> int:
    blocks = [p for p in source.iterdir() if p.is_dir()]
    for block in blocks:
        shutil.move(str(block), str(data_dir / block.name))
    source.rmdir()
    return len(blocks)


class PrometheusOnData:
    """A real Prometheus on 127.0.0.1 serving an existing data directory (no scraping, no rules).

    Retention is measured from the newest block, not from the wall clock: a
    month of history needs more than the default 15 days.
    """

    def __init__(self, folder: Path, data_dir: Path):
        self.folder, self.data_dir = folder, data_dir
        (folder / "prometheus.yml").write_text(yaml.safe_dump({"global": {"evaluation_interval": "1m"}}))
        self.log_path = folder / "prometheus.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [find_prometheus(), f"--config.file={self.folder / 'prometheus.yml'}",
                 f"--storage.tsdb.path={self.data_dir}", "--storage.tsdb.retention.time=3650d",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)
        wait_ready(self.url, self.process, self.log_path, timeout=60)

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process)
        self.process = None

    def query(self, expr: str, at: float) -> list[dict]:
        params = urllib.parse.urlencode({"query": expr, "time": repr(at)})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=60) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"{expr}: {body}")
        return body["data"]["result"]
