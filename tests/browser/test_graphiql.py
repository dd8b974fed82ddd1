"""GraphiQL in a real browser: `gateway demo`, Debian's headless Chromium driven by playwright-core (graphiql.mjs).

The demo (emulators plus the gateway) runs as its own process; the node script opens /graphql, enters a
query, runs it and waits for the answer in the result pane; a screenshot goes to test-output/graphiql.png.
GraphiQL's page loads its scripts from unpkg.com, which this machine cannot reach: graphiql.mjs serves those
exact files from tests/browser/node_modules (pinned to the versions the page asks for; the browser still checks
their integrity hashes), and refuses anything else that is not on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

from tests.federation.subprocesses import npm_ci, run_node, start_process
from tests.helpers import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUTPUT = ROOT / "test-output"
QUERY = '{ dataset(id: "openml:dataset:61") { name } }'


async def _wait_until_serving(base_url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while True:
            try:
                async with session.get(f"{base_url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"the demo at {base_url} did not answer within {within:g} s"
            await asyncio.sleep(0.1)


async def test_graphiql_runs_a_query_in_chromium() -> None:
    await npm_ci(HERE)
    OUTPUT.mkdir(exist_ok=True)
    screenshot = OUTPUT / "graphiql.png"
    screenshot.unlink(missing_ok=True)
    gateway = Path(sys.executable).with_name("gateway")
    port = free_port()
    async with start_process([str(gateway), "demo", "--port", str(port)], cwd=ROOT, ready_prefix="gateway: ",
                             within=120) as demo:
        url = demo.ready
        assert url == f"http://127.0.0.1:{port}/graphql", demo.output()
        await _wait_until_serving(url.removesuffix("/graphql"))
        out = await run_node(HERE, "graphiql.mjs", "--url", url, "--query", QUERY, "--expect", '"iris"',
                             "--screenshot", str(screenshot), within=180)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["editor"] == QUERY, report
    assert '"name": "iris"' in report["result"], report
    assert report["blocked"] == [] and report["pageErrors"] == [], report
    assert any(u.endswith("/graphiql.min.js") for u in report["served"]), report
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and screenshot.stat().st_size > 10_000
