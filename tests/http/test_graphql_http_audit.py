"""The npm `graphql-http` server audit (GraphQL over HTTP spec) against the gateway: no error, warning or notice.

The node project is `tests/http/audit/` (exact versions in its committed package-lock.json); `npm ci` runs when
node_modules is missing or was installed from another lock file, then `node audit.mjs <url>` prints the results.
Both run as asyncio subprocesses: the gateway under test serves from this test's own event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path

from tests.helpers import running_gateway, settings_for

AUDIT = Path(__file__).resolve().parent / "audit"
STAMP = AUDIT / "node_modules" / ".installed-from.sha256"


async def _run(*argv: str, limit: float) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(*argv, cwd=AUDIT, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{' '.join(argv)} did not finish within {limit:g} s") from None
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def _npm_ci_if_needed() -> None:
    digest = hashlib.sha256((AUDIT / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    npm = shutil.which("npm")
    assert npm, "npm is required for the GraphQL-over-HTTP audit (node 20 and npm)"
    code, out, err = await _run(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", limit=600)
    assert code == 0, f"npm ci failed:\n{out[-3000:]}\n{err[-3000:]}"
    STAMP.write_text(digest + "\n")


async def test_graphql_http_audit_passes_without_errors_or_warnings() -> None:
    await _npm_ci_if_needed()
    node = shutil.which("node")
    assert node, "node is required for the GraphQL-over-HTTP audit"
    async with running_gateway(settings_for(None)) as gw:
        code, out, err = await _run(node, "audit.mjs", gw.url, limit=120)
    assert code == 0, err
    report = json.loads(out)
    failures = [r for r in report["results"] if r["status"] != "ok"]
    assert not failures, json.dumps(failures, indent=1)[:6000]
    assert report["counts"] == {"ok": report["total"], "notice": 0, "warn": 0, "error": 0}
    assert report["total"] >= 61  # graphql-http 1.23.1 has 61 server audits; fewer would mean none ran
