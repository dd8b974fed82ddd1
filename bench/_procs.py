"""Start the emulator and gateway processes a benchmark compares, on loopback, and stop them by PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not up after {timeout} s")


def _spawn(argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@contextlib.contextmanager
def emulator(latency_ms: float) -> Iterator[Proc]:
    """The OpenML v1 emulator in its own process with ``latency_ms`` per call."""
    port = free_port()
    proc = _spawn([sys.executable, "-m", "gateway.cli", "emulate", "openml", "--port", str(port),
                   "--latency-ms", str(latency_ms)])
    handle = Proc("openml", proc, f"http://127.0.0.1:{port}/api/v1/xml")
    try:
        _wait(f"http://127.0.0.1:{port}/_emulator/health", proc)
        yield handle
    finally:
        handle.stop()


@contextlib.contextmanager
def gateway(openml_url: str, **settings: str) -> Iterator[Proc]:
    """`gateway serve` in its own process against ``openml_url`` with extra GATEWAY_* settings."""
    port = free_port()
    env = {"GATEWAY_OPENML_URL": openml_url, **{f"GATEWAY_{k.upper()}": v for k, v in settings.items()}}
    proc = _spawn([sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--log-level", "warning"], env)
    handle = Proc("gateway", proc, f"http://127.0.0.1:{port}/graphql")
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", proc)
        yield handle
    finally:
        handle.stop()


def emulator_calls(emulator_url: str) -> list[str]:
    """API paths the emulator served since the last reset."""
    base = emulator_url.split("/api/", 1)[0]
    with urllib.request.urlopen(f"{base}/_emulator/calls", timeout=10) as response:
        calls = json.loads(response.read())
    return [c["path"].split("/api/v1/xml/", 1)[-1] for c in calls]


def reset_calls(emulator_url: str) -> None:
    base = emulator_url.split("/api/", 1)[0]
    request = urllib.request.Request(f"{base}/_emulator/calls", method="DELETE")
    with urllib.request.urlopen(request, timeout=10):
        pass
