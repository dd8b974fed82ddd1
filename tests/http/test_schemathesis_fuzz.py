"""Schemathesis in GraphQL mode against the demo (all five emulators), bounded: no 5xx anywhere.

Schemathesis reads the schema by introspection and generates documents for every Query and Mutation field;
mutations without credentials are refused before any backend call, reads go to the emulators on loopback.
The fields taking an arbitrary JSON scalar (which Schemathesis cannot generate) are left to the
hypothesis-based fuzz in test_request_hardening.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


async def test_schemathesis_graphql_fuzz_finds_no_server_error() -> None:
    port = free_port()
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "demo", "--port", str(port), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        assert demo.stdout is not None
        printed = ""
        while "pytupli: " not in printed:
            line = (await asyncio.wait_for(demo.stdout.readline(), 120)).decode()
            assert line, printed
            printed += line
        url = f"http://127.0.0.1:{port}/graphql"
        schemathesis = str(Path(sys.executable).with_name("schemathesis"))
        run = await asyncio.create_subprocess_exec(
            schemathesis, "run", url, "--max-examples", "15", "--checks", "not_a_server_error",
            "--request-timeout", "30", "--exclude-name-regex", "writeMlteArtifact|createVantage6Task|_entities",
            "--seed", "7", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            cwd=tempfile.mkdtemp(prefix="schemathesis-"))  # its report folder stays out of the checkout
        output, _ = await asyncio.wait_for(run.communicate(), 600)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        await asyncio.wait_for(demo.wait(), 30)
    text = output.decode(errors="replace")
    assert run.returncode == 0, text[-4000:]
    assert " passed" in text and "failed" not in text.split("SUMMARY", 1)[-1], text[-4000:]
