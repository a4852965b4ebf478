"""Start a real Prometheus on 127.0.0.1 with the rendered rules, and stop it."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from prometheus_tools import build_prometheus3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_prometheus() -> str:
    """The server the live tests run on: Prometheus 3 at the pinned version (PROMETHEUS overrides it)."""
    path, why = build_prometheus3("prometheus")
    if not path:
        pytest.fail(why, pytrace=False)
    return path


def stop_process(process: subprocess.Popen) -> None:
    """Terminate, and kill if it has not exited after 20s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 30, what: str = "prometheus") -> None:
    """Until Prometheus (or a Thanos component) at url answers /-/ready; its log's tail if it exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not become ready: {log.read_text()[-2000:]}")


def api(url: str, path: str, **params: str) -> dict:
    """The data of a GET of Prometheus' HTTP API (or Thanos', the same) at url."""
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}/api/v1/{path}?{query}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


class LivePrometheus:
    def __init__(self, folder: Path, rule_files: list[Path], targets: list[str], group_interval: str = "5s",
                 binary: str | None = None, flags: tuple[str, ...] = (), external_labels: dict[str, str] | None = None,
                 more_jobs: tuple[dict, ...] = ()):
        """`binary`: another server than the pinned 3.x (a test comparing versions); `flags`: more of its
        command-line flags (--web.enable-otlp-receiver); `external_labels`: a shard's (Thanos); `more_jobs`:
        scrape configs besides the workload's."""
        self.folder = folder
        self.port = free_port()
        rules_dir = folder / "rules"
        rules_dir.mkdir(parents=True)
        for source in rule_files:
            document = yaml.safe_load(source.read_text())
            for group in document["groups"]:
                # Groups that run every 5m in production (the budget group) run
                # every few seconds here; expressions are untouched.
                if "interval" in group:
                    group["interval"] = group_interval
            (rules_dir / source.name).write_text(yaml.safe_dump(document))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                       **({"external_labels": external_labels} if external_labels else {})},
            "rule_files": [str(rules_dir / "*.yaml")],
            "scrape_configs": [{"job_name": "kfm-synthetic", "static_configs": [{"targets": targets}]}, *more_jobs],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(folder / "prometheus.log", "w")
        self.process = subprocess.Popen(
            [binary or find_prometheus(), f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}", *flags],
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 30) -> None:
        wait_ready(self.url, self.process, self.folder / "prometheus.log", timeout)

    def api(self, path: str, **params: str) -> dict:
        return api(self.url, path, **params)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
            return response.read().decode()

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()
