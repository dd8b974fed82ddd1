"""`python -m bench` (make bench): run the scenarios, print a table, write bench/results.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import leaderboard


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=50)
    args = parser.parse_args()
    results = [leaderboard.run(latency_ms=args.latency_ms, n=args.rows, repeats=args.repeats)]
    for result in results:
        print(f"\n{result['scenario']} ({result['rows']} rows, {result['latency_ms']:g} ms per backend call)")
        print(f"{'path':<28}{'seconds':>10}{'backend calls':>16}")
        for label, key in [("gateway, cold", "gateway_cold"), ("gateway, warm", "gateway_warm"),
                           ("openml-python", "openml_python")]:
            print(f"{label:<28}{result[key + '_s']:>10.3f}{result[key + '_calls']:>16}")
        print(f"cold gateway vs openml-python: {result['speedup_cold_vs_openml_python']:.1f}x faster; "
              f"warm vs cold: {result['speedup_warm_vs_cold']:.1f}x")
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
