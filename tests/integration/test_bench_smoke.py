"""A short smoke run of the leaderboard benchmark: same answers on every path, backend calls counted (no timings)."""

from __future__ import annotations

from bench import leaderboard


def test_bench_leaderboard_smoke_counts_calls() -> None:
    result = leaderboard.run(latency_ms=0.0, n=10, repeats=1)
    assert result["gateway_warm_calls"] == 0
    # run/list (the three tasks' runs) + task/list + data/list + evaluation/list; flow names come from the
    # evaluation rows, so distinct flows cost nothing more
    assert result["gateway_cold_calls"] == 4
    assert result["gateway_unbatched_calls"] > 5 * result["gateway_cold_calls"]
    assert result["openml_python_calls"] > 10 + result["distinct_flows"]  # a get per run and per flow, at least
