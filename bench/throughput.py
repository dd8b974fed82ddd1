"""Scenario 4, "throughput": warm leaderboard requests per second at concurrency 32, side by side with
bare Strawberry serving the same response shape from memory (the framework's floor) and with a
``{ __typename }`` query on the gateway (the HTTP stack's floor)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from bench import _procs, leaderboard
from bench._client import post, throughput

BARE_QUERY = """query Leaderboard($tasks: JSON, $n: Int) { runs(filter: $tasks, first: $n) { edges { node { id
  ... on OpenMLRun { flow { name } task { name dataset { name } } evaluation(measure: "predictive_accuracy") {
  value } } } } } }"""


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run(latency_ms: float = 20.0, rows: int = 100, concurrency: int = 32, seconds: float = 10.0) -> dict[str, Any]:
    variables = leaderboard.variables(rows)
    with _procs.emulator(latency_ms) as emu, _procs.gateway(emu.url) as gw:
        body = post(gw.url, leaderboard.QUERY, variables)
        table = [[e["node"]["id"], e["node"]["flow"]["name"], e["node"]["task"]["name"],
                  e["node"]["task"]["dataset"]["name"], (e["node"]["evaluation"] or {}).get("value")]
                 for e in body["data"]["runs"]["edges"]]
        gateway_rps = throughput(gw.url, leaderboard.QUERY, variables, concurrency, seconds)
        typename_rps = throughput(gw.url, "{ __typename }", None, concurrency, seconds)
        peak_rss = _peak_rss_kib(gw.process.pid)
        with _procs.gateway(emu.url, response_cache="true") as cached:
            post(cached.url, leaderboard.QUERY, variables)
            cached_rps = throughput(cached.url, leaderboard.QUERY, variables, concurrency, seconds)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(table, handle)
        port = _procs.free_port()
        bare = subprocess.Popen([sys.executable, "-m", "bench.bare_app", "--port", str(port), "--data", handle.name],
                                cwd=_procs.ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        bare_proc = _procs.Proc("bare", bare, f"http://127.0.0.1:{port}/graphql")
        try:
            _procs._wait(bare_proc.url, bare)
            bare_body = post(bare_proc.url, BARE_QUERY, {"tasks": None, "n": rows})
            assert len(bare_body["data"]["runs"]["edges"]) == len(table)
            bare_rps = throughput(bare_proc.url, BARE_QUERY, {"tasks": None, "n": rows}, concurrency, seconds)
        finally:
            bare_proc.stop()
            os.unlink(handle.name)
    return {"scenario": "throughput", "rows": rows, "concurrency": concurrency, "seconds": seconds,
            "gateway_warm_rps": gateway_rps, "bare_strawberry_rps": bare_rps, "typename_rps": typename_rps,
            "ratio_warm_vs_bare": gateway_rps / bare_rps, "response_cache_rps": cached_rps,
            "ratio_response_cache_vs_typename": cached_rps / typename_rps, "gateway_peak_rss_mib": peak_rss / 1024}
