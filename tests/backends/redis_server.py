"""A real redis-server (Debian package, installed here when missing) on a free loopback port, stopped by PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.backends.harness import ServerProcess, free_port


def ensure_redis_server() -> str:
    """Return the path of redis-server, installing Debian's package when it is missing (we run as root)."""
    found = shutil.which("redis-server")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"], check=True,
                   env=env, timeout=900)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server is still missing after apt-get install")
    return found


def start_redis() -> tuple[ServerProcess, str]:
    binary = ensure_redis_server()
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="gateway-redis-")
    server = ServerProcess("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", workdir, "--protected-mode", "yes"])
    deadline = time.monotonic() + 30
    cli = shutil.which("redis-cli")
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{server.tail()}")
        probe = subprocess.run([cli or "redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        if probe.stdout.strip() == "PONG":
            return server, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("redis-server did not answer PING")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis for the whole test session (flushed by the tests that need a clean one)."""
    server, url = start_redis()
    try:
        yield url
    finally:
        server.stop()
