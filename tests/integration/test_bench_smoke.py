"""A short smoke run of the leaderboard benchmark: same answers on every path, backend calls counted (no timings)."""

from __future__ import annotations

from bench import leaderboard


def test_bench_leaderboard_smoke_counts_calls() -> None:
    result = leaderboard.run(latency_ms=0.0, n=10, repeats=1)
    assert result["gateway_warm_calls"] == 0
    # run/list (the three tasks' runs) + task/list (task and dataset names) + evaluation/list of the one
    # measure (its rows also name each run's flow, so distinct flows cost nothing more)
    assert result["gateway_cold_calls"] == 3
    assert result["gateway_unbatched_calls"] > 5 * result["gateway_cold_calls"]
    assert result["openml_python_calls"] > 10 + result["distinct_flows"]  # a get per run and per flow, at least


def test_bench_suite_smoke_runs_every_scenario() -> None:
    """`python -m bench --smoke`: every scenario runs and writes its figures (timings are reported, never asserted)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--latency-ms", "0"], cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {r["scenario"]: r for r in json.loads((root / "bench" / "results.json").read_text())}
    assert set(results) >= {"leaderboard", "dataset_page", "throughput", "normalization", "scaling", "startup",
                            "federated"}
    assert results["leaderboard"]["gateway_cold_calls"] == 3
    assert [p["calls"] for p in results["scaling"]["points"]] == [3, 3]  # 10 and 100 rows: the same calls
    page = results["dataset_page"]
    # one summary list, the description, features, qualities, the tasks' list, each shown task's description
    # (no batch endpoint for full tasks), the procedures, each task's ordered runs, and their evaluations
    assert page["calls_by_endpoint"]["data/list"] == 1 and page["calls_by_endpoint"]["task/list"] == 1
    assert page["calls_by_endpoint"]["estimationprocedure/list"] == 1
    assert page["gateway_warm_calls"] == 0 and results["normalization"]["rows"] == 10_000


def test_bench_profile_prints_a_cold_and_a_warm_call_tree() -> None:
    """`python -m bench.profile`: the profile quoted in the closing note can be taken again."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "bench.profile", "--rows", "5", "--latency-ms", "0",
                           "--min-percent", "5"], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "=== leaderboard, 5 rows, cold ===" in done.stdout and "=== leaderboard, 5 rows, warm ===" in done.stdout
    assert done.stdout.count("Duration:") == 2 and "graphql_view.py" in done.stdout
