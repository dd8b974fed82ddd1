"""`python -m bench` (make bench): every scenario side by side, a table, bench/results.json and bench/results.png.

`--smoke` runs a short version (fewer rows, seconds and repeats) that checks the machinery, not the speed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench import dataset_page, leaderboard, normalization, scaling, startup, throughput

HERE = Path(__file__).resolve().parent


def _line(label: str, value: Any, target: str = "") -> str:
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    return f"  {label:<48}{shown:>14}  {target}"


def report(results: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for r in results:
        out.append(f"\n{r['scenario']}")
        if r["scenario"] == "leaderboard":
            out += [_line(f"gateway cold, s ({r['gateway_cold_calls']} calls)", r["gateway_cold_s"]),
                    _line(f"gateway warm, s ({r['gateway_warm_calls']} calls)", r["gateway_warm_s"]),
                    _line(f"gateway, dataloaders off, s ({r['gateway_unbatched_calls']} calls)",
                          r["gateway_unbatched_s"]),
                    _line("cold vs dataloaders off", r["speedup_cold_vs_unbatched"], "x faster (target >= 10)")]
            if "openml_python_s" in r:
                out += [_line(f"openml-python, s ({r['openml_python_calls']} calls)", r["openml_python_s"]),
                        _line("cold vs openml-python", r["speedup_cold_vs_openml_python"], "x faster (target >= 20)")]
        elif r["scenario"] == "throughput":
            out += [_line("warm leaderboard, req/s", r["gateway_warm_rps"]),
                    _line("bare Strawberry, same shape, req/s", r["bare_strawberry_rps"]),
                    _line("warm / bare", r["ratio_warm_vs_bare"], "(target >= 0.7)"),
                    _line("{ __typename }, req/s", r["typename_rps"]),
                    _line("response cache, req/s", r["response_cache_rps"]),
                    _line("response cache / __typename", r["ratio_response_cache_vs_typename"], "(target >= 0.7)"),
                    _line("gateway peak RSS, MiB", r["gateway_peak_rss_mib"], "(target < 300)")]
        elif r["scenario"] == "normalization":
            out += [_line("xmltodict.parse alone, s", r["xmltodict_parse_s"]),
                    _line("parse + normalize, s", r["parse_and_normalize_s"]),
                    _line("ratio", r["ratio_vs_xmltodict"], "(target <= 1.3)")]
        elif r["scenario"] == "scaling":
            for p in r["points"]:
                out.append(_line(f"{p['rows']} rows: s / calls (flows {p['flow_calls']})",
                                 f"{p['seconds']:.3f} / {p['calls']}"))
            out.append(_line("latency growth for x rows", f"{r['latency_growth']:.1f} / {r['row_growth']:.0f}"))
        elif r["scenario"] == "dataset_page":
            out += [_line(f"cold, s ({r['gateway_cold_calls']} calls)", r["gateway_cold_s"]),
                    _line(f"warm, s ({r['gateway_warm_calls']} calls)", r["gateway_warm_s"]),
                    _line("calls by endpoint", json.dumps(r["calls_by_endpoint"]))]
        elif r["scenario"] == "startup":
            out.append(_line("gateway serve ready, s (median)", r["ready_s_median"], "(target < 2)"))
        elif r["scenario"] == "federated":
            out += [_line("direct, s", r["direct_s"]), _line("through @apollo/gateway, s", r["supergraph_s"]),
                    _line("ratio", r["ratio"])]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true", help="short run: machinery, not speed")
    args = parser.parse_args()
    smoke = args.smoke
    results: list[dict[str, Any]] = [
        leaderboard.run(latency_ms=args.latency_ms, n=20 if smoke else 100, repeats=1 if smoke else 3),
        dataset_page.run(latency_ms=args.latency_ms, repeats=1 if smoke else 3),
        throughput.run(latency_ms=args.latency_ms, seconds=1.0 if smoke else 10.0),
        normalization.run(repeats=1 if smoke else 5),
        scaling.run(latency_ms=args.latency_ms, sizes=(10, 100) if smoke else (10, 100, 1000),
                    repeats=1 if smoke else 2),
        startup.run(starts=1 if smoke else 3),
    ]
    try:
        from bench import federated

        results.append(federated.run(latency_ms=args.latency_ms, repeats=1 if smoke else 3))
    except ImportError:
        pass
    print(report(results))
    (HERE / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {HERE / 'results.json'}")
    try:
        png = __import__("bench.plot", fromlist=["draw"]).draw(results, HERE / "results.png")
        if png is not None:
            print(f"wrote {png}")
    except ImportError:
        print("matplotlib is not installed: no plot (make bench installs it)")


if __name__ == "__main__":
    main()
