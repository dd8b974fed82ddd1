"""How long `gateway serve` takes from spawn to answering /healthz (median of a few starts)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import _procs


def run(starts: int = 3) -> dict[str, Any]:
    samples = []
    with _procs.emulator(0) as emu:
        for _ in range(starts):
            started = time.perf_counter()
            with _procs.gateway(emu.url):
                samples.append(time.perf_counter() - started)
    return {"scenario": "startup", "starts": starts, "ready_s_median": statistics.median(samples),
            "ready_s_max": max(samples)}
