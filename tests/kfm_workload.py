"""A synthetic KFM workload as its own process, driven over stdin, instrumented by KfmInstruments.

    python tests/kfm_workload.py --port 9464 --refresh river-gauges=30 --refresh census-tracts=5040

Serves /metrics on 127.0.0.1:<port> (kfm_instrument.KfmInstruments and
its registry) and ticks every TICK seconds: evidence resolutions, Focus Mode
answers, policy decisions and governed-API requests at steady rates, with
errors far below any budget; each --refresh dataset gets a successful
pipeline run (and promotion) every given number of seconds, the first at
start.

Commands, one per line on stdin; each is acknowledged on stdout with one JSON
line carrying the time it took effect:

    outage                 every evidence resolution from now on is an error
    stop-refresh DATASET   no more runs of DATASET (the ack gives its last success)
    allow-unlabelled ROUTE one `allow` decision on a dataset without a policy label
    quit

"The exporter dies" is the test killing this process.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

from prometheus_client import start_http_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import conventions as c  # noqa: E402
from kfm_instrument import KfmInstruments  # noqa: E402

TICK = 0.25  # seconds
RESOLUTIONS_PER_TICK = 10
ROUTES = ("/v1/datasets/{id}", "/v1/query")
GATES = ("schema", "license")


class Workload:
    def __init__(self, refresh: dict[str, float], seed: int = 11):
        self.kfm = KfmInstruments()
        self.random = random.Random(seed)
        self.refresh = dict(refresh)
        self.next_refresh = {dataset: 0.0 for dataset in refresh}
        self.last_success: dict[str, float] = {}
        self.outage = False
        self.lock = threading.Lock()

    def tick(self) -> None:
        rnd, kfm = self.random, self.kfm
        now = time.time()
        with self.lock:
            for dataset, every in self.refresh.items():
                if now >= self.next_refresh[dataset]:
                    kfm.record_pipeline_run(dataset, "publish", "success", rnd.uniform(5, 600), finished_at=now)
                    kfm.promotion(dataset, {gate: "pass" for gate in GATES})
                    self.last_success[dataset] = now
                    self.next_refresh[dataset] = now + every
            for _ in range(RESOLUTIONS_PER_TICK):
                if self.outage:
                    outcome = "error"
                else:  # one error in 10,000: a tenth of a 99.9% budget
                    outcome = rnd.choices(c.EVIDENCE_OUTCOMES, (89_990, 10_000, 1))[0]
                kfm.record_evidence_resolution(outcome, rnd.expovariate(1 / 0.08))
            for _ in range(4):
                kfm.focus_answer(rnd.choices(c.FOCUS_OUTCOMES, (99_495, 500, 5))[0])
                route = rnd.choice(ROUTES)
                decision = rnd.choices(("allow", "deny"), (4, 1))[0]
                kfm.policy_decision(decision, route, True)
                kfm.api_request(route, 200 if decision == "allow" else 403, decision, rnd.expovariate(1 / 0.05))

    def command(self, line: str) -> dict:
        word, _, argument = line.strip().partition(" ")
        with self.lock:
            answer: dict = {"command": word, "argument": argument}
            if word == "outage":
                self.outage = True
            elif word == "stop-refresh":
                self.refresh.pop(argument)
                answer["last_success"] = self.last_success[argument]
            elif word == "allow-unlabelled":
                self.kfm.policy_decision("allow", argument, False)
            elif word != "quit":
                raise ValueError(f"unknown command {line!r}")
            answer["at"] = time.time()
        return answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--refresh", action="append", default=[], metavar="DATASET=SECONDS")
    args = parser.parse_args()
    refresh = {name: float(every) for name, every in (item.split("=", 1) for item in args.refresh)}
    workload = Workload(refresh)
    workload.tick()
    start_http_server(args.port, addr="127.0.0.1", registry=workload.kfm.registry)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(TICK):
            workload.tick()

    threading.Thread(target=loop, daemon=True).start()
    print(json.dumps({"command": "ready", "at": time.time()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = workload.command(line)
        print(json.dumps(answer), flush=True)
        if answer["command"] == "quit":
            break
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
