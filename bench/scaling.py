"""Scenario 6, "scaling": backend calls and latency of the leaderboard for 10, 100 and 1,000 rows."""

from __future__ import annotations

from typing import Any

from bench import _procs, leaderboard
from bench._client import post, timed


def run(latency_ms: float = 20.0, sizes: tuple[int, ...] = (10, 100, 1000), repeats: int = 2) -> dict[str, Any]:
    points = []
    with _procs.emulator(latency_ms) as emu, _procs.gateway(emu.url, cache_enabled="false", max_first="1000",
                                                              max_cost="1000000") as gw:
        post(gw.url, leaderboard.QUERY, leaderboard.variables(2, (1, 56, 1029)))
        for n in sizes:
            variables = leaderboard.variables(n, (1, 56, 1029))
            _procs.reset_calls(emu.url)
            seconds, body = timed(lambda v=variables: post(gw.url, leaderboard.QUERY, v), repeats)
            calls = _procs.emulator_calls(emu.url)[: len(_procs.emulator_calls(emu.url)) // repeats]
            flows = {edge["node"]["flow"]["name"] for edge in body["data"]["runs"]["edges"]}
            flow_calls = sum(1 for path in calls if path.startswith("flow/"))
            points.append({"rows": len(body["data"]["runs"]["edges"]), "seconds": seconds, "calls": len(calls),
                           "flow_calls": flow_calls, "other_calls": len(calls) - flow_calls,
                           "distinct_flow_names": len(flows)})
    first, last = points[0], points[-1]
    return {"scenario": "scaling", "latency_ms": latency_ms, "points": points,
            "latency_growth": last["seconds"] / first["seconds"], "row_growth": last["rows"] / first["rows"]}
