"""Scenario 5, "normalization": a 10,000-run list XML parsed and normalized, against xmltodict.parse alone."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import xmltodict

from adapters.openml_v1 import normalize
from adapters.openml_v1.emulator import EmulatorConfig, start_emulator


async def _body(path: str) -> bytes:
    emulator = await start_emulator(EmulatorConfig())
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{emulator.url}/{path}") as response:
            return await response.read()
    finally:
        await emulator.close()


def _best(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(repeats: int = 5) -> dict[str, Any]:
    body = asyncio.run(_body("run/list/limit/10000"))
    rows = normalize.run_list_from_xml(body)
    assert len(rows) == 10_000
    baseline = _best(lambda: xmltodict.parse(body), repeats)
    ours = _best(lambda: normalize.run_list_from_xml(body), repeats)
    return {"scenario": "normalization", "rows": len(rows), "bytes": len(body), "xmltodict_parse_s": baseline,
            "parse_and_normalize_s": ours, "ratio_vs_xmltodict": ours / baseline}
