"""Start real Thanos components on 127.0.0.1 (a sidecar per Prometheus shard, Query, Ruler), and stop them."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from live_prometheus import api, free_port, stop_process, wait_ready


class ThanosProcess:
    """One Thanos component: its HTTP and gRPC ports, its log, ready once /-/ready answers."""

    def __init__(self, thanos: str, folder: Path, component: str, args: list[str], http_port: int | None = None,
                 grpc_port: int | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.log_path = folder / f"{component}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [thanos, component, f"--http-address=127.0.0.1:{self.http_port}",
             f"--grpc-address=127.0.0.1:{self.grpc_port}", *args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.component = component

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def wait_ready(self, timeout: float = 60) -> None:
        wait_ready(self.url, self.process, self.log_path, timeout, f"thanos {self.component}")

    def api(self, path: str, **params: str) -> dict:
        return api(self.url, path, **params)

    def stop(self) -> None:
        if self.process.poll() is None:
            stop_process(self.process)
        self.log.close()


def sidecar(thanos: str, folder: Path, prometheus_url: str, tsdb: Path) -> ThanosProcess:
    return ThanosProcess(thanos, folder, "sidecar", [f"--prometheus.url={prometheus_url}", f"--tsdb.path={tsdb}"])


def query(thanos: str, folder: Path, strict: list[str], others: list[str], replica_label: str,
          grpc_port: int | None = None) -> ThanosProcess:
    """Thanos Query over `strict` endpoints (kept in its store set while down, so a query that needs
    them fails instead of quietly leaving them out) and `others`."""
    config = {"endpoints": [{"address": address, "strict": True} for address in strict]
              + [{"address": address} for address in others]}
    return ThanosProcess(thanos, folder, "query", [f"--endpoint.sd-config={yaml.safe_dump(config)}",
                                                   f"--query.replica-label={replica_label}"], grpc_port=grpc_port)


def ruler(thanos: str, folder: Path, rules_dir: Path, query_url: str, replica_label: str,
          http_port: int | None = None, grpc_port: int | None = None) -> ThanosProcess:
    return ThanosProcess(thanos, folder, "rule", [
        f"--data-dir={folder / 'data'}", f"--rule-file={rules_dir}/*.yaml", "--eval-interval=1s",
        f"--query={query_url}", f'--label={replica_label}="a"', "--resend-delay=1s"],
        http_port=http_port, grpc_port=grpc_port)
