"""`make demo` on this checkout: starts the emulators and the gateway, prints the URLs, answers GraphiQL and queries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        return json.loads(response.read())


def test_demo_make_target_prints_urls_and_serves() -> None:
    port = free_port()
    process = subprocess.Popen(["make", "--no-print-directory", "demo", f"PORT={port}"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("openml: "):
                break
        services = dict(line.split(": ", 1) for line in lines if line.split(": ", 1)[0] in {"gateway", "openml"})
        assert services.get("gateway") == f"http://127.0.0.1:{port}/graphql", lines
        assert services["openml"].startswith("http://127.0.0.1:") and services["openml"].endswith("/api/v1/xml")
        url = services["gateway"]
        body: dict = {}
        for _ in range(100):
            try:
                body = _post(url, '{ dataset(id: "openml:dataset:61") { name } }')
                break
            except OSError:
                time.sleep(0.1)
        assert body == {"data": {"dataset": {"name": "iris"}}}
        request = urllib.request.Request(url, headers={"Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
        assert "graphiql" in page.lower()
        runs = _post(url, '{ runs(filter: {taskIds: ["openml:task:31"]}) { edges { node { id } } } }')
        assert len(runs["data"]["runs"]["edges"]) == 20  # the demo data fills a whole first page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
