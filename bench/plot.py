"""Draw bench/results.png: latency against rows, gateway against the alternatives (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(results: list[dict[str, Any]], out: Path) -> Path | None:
    """Plot the scaling and leaderboard figures; returns the PNG path (None when there is nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaling = next((r for r in results if r["scenario"] == "scaling"), None)
    board = next((r for r in results if r["scenario"] == "leaderboard"), None)
    if scaling is None and board is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    if scaling is not None:
        rows = [p["rows"] for p in scaling["points"]]
        axes[0].plot(rows, [p["seconds"] for p in scaling["points"]], "o-", label="gateway (cold)")
        per_call = scaling["latency_ms"] / 1000
        axes[0].plot(rows, [per_call * 3 * r for r in rows], "--", label="one call per row and entity (est.)")
        axes[0].set_xscale("log")
        axes[0].set_yscale("log")
        axes[0].set_xlabel("rows")
        axes[0].set_ylabel("seconds")
        axes[0].set_title(f"Leaderboard latency vs rows ({scaling['latency_ms']:g} ms per backend call)")
        axes[0].legend()
    if board is not None:
        labels = ["gateway warm", "gateway cold", "no dataloaders", "openml-python"]
        keys = ["gateway_warm_s", "gateway_cold_s", "gateway_unbatched_s", "openml_python_s"]
        values = [board.get(k) for k in keys]
        shown = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
        axes[1].barh([s[0] for s in shown], [s[1] for s in shown])
        axes[1].set_xscale("log")
        axes[1].set_xlabel("seconds (log)")
        axes[1].set_title(f"Leaderboard, {board['rows']} rows")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
