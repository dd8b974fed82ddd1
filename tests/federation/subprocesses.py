"""Processes for the federation and browser tests: `npm ci` when node_modules is stale, servers stopped by PID.

Everything is asyncio: the gateway under test runs in the test's own event loop, so a blocking wait on a
process that calls the gateway back would deadlock. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunningProcess", "npm_ci", "run_node", "start_node", "start_process"]

NPM_CI_TIMEOUT = 600.0
_STAMP = ".npm-ci.sha256"


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed: run `bash scripts/test-setup.sh`"
    return node


def _lock_digest(project: Path, node_version: str) -> str:
    digest = hashlib.sha256(node_version.encode())
    for name in ("package.json", "package-lock.json", ".npmrc"):
        path = project / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()


async def _communicate(argv: Sequence[str], cwd: Path, within: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        await _terminate(process, group=True)  # npm has children of its own
        raise AssertionError(f"{' '.join(argv)} did not finish within {within:g} s") from None
    return process.returncode or 0, out.decode(errors="replace")


async def npm_ci(project: Path) -> bool:
    """Run `npm ci` in ``project`` unless node_modules matches its lock file; return whether it ran."""
    _, node_version = await _communicate([_node(), "--version"], project, 30)
    expected = _lock_digest(project, node_version.strip())
    stamp = project / "node_modules" / _STAMP
    if stamp.exists() and stamp.read_text().strip() == expected:
        return False
    npm = shutil.which("npm")
    assert npm, "npm is not installed: run `bash scripts/test-setup.sh`"
    # --ignore-scripts: nothing here needs an install script (protobufjs' postinstall only checks its CLI deps)
    code, out = await _communicate([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], project,
                                   NPM_CI_TIMEOUT)
    assert code == 0, f"npm ci failed in {project}:\n{out[-4000:]}"
    stamp.write_text(expected + "\n")
    return True


async def run_node(project: Path, script: str, *args: str, within: float = 120.0) -> str:
    """Run ``node script args`` in ``project`` to completion; return its output (stdout and stderr)."""
    code, out = await _communicate([_node(), script, *args], project, within)
    assert code == 0, f"node {script} exited with {code}:\n{out[-6000:]}"
    return out


async def _terminate(process: asyncio.subprocess.Process, *, group: bool = False) -> None:
    """Stop ``process`` by its PID (``group``: its whole session, whose id is that PID): SIGTERM, then SIGKILL."""
    kill = os.killpg if group else os.kill
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            kill(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace)


@dataclass
class RunningProcess:
    """A running server process: its PID, the value of its ready line and every line it printed since."""

    pid: int
    ready: str
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=2000))

    def output(self) -> str:
        """Everything the process printed (the last 2,000 lines)."""
        return "\n".join(self.lines)


@contextlib.asynccontextmanager
async def start_process(argv: Sequence[str], *, cwd: Path, ready_prefix: str,
                        within: float = 60.0) -> AsyncIterator[RunningProcess]:
    """Start ``argv`` in a session of its own; wait (``within`` s) for a line ``<ready_prefix><value>``.

    On exit the process is stopped by its PID: SIGTERM, then SIGKILL if it still runs 10 s later.
    """
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    name = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv[:2]))
    lines: deque[str] = deque(maxlen=2000)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def drain() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            lines.append(line)
            if not ready.done() and line.startswith(ready_prefix):
                ready.set_result(line[len(ready_prefix):].strip())
        if not ready.done():
            ready.set_exception(AssertionError(f"{name} exited before `{ready_prefix}`:\n" + "\n".join(lines)))

    reader = asyncio.create_task(drain())
    try:
        try:
            value = await asyncio.wait_for(asyncio.shield(ready), within)
        except TimeoutError:
            raise AssertionError(f"{name} printed no `{ready_prefix}` within {within:g} s:\n"
                                 + "\n".join(lines)) from None
        yield RunningProcess(pid=process.pid, ready=value, lines=lines)
    finally:
        await _terminate(process)
        await asyncio.wait_for(reader, 10)


def start_node(project: Path, script: str, *args: str, ready_prefix: str,
               within: float = 60.0) -> contextlib.AbstractAsyncContextManager[RunningProcess]:
    """Start ``node script args`` in ``project`` (see ``start_process``)."""
    return start_process([_node(), script, *args], cwd=project, ready_prefix=ready_prefix, within=within)
