"""`gateway emulate` stops cleanly (exit 0) on SIGINT and SIGTERM, even when it inherited SIGINT ignored.

A process started as a background job of a non-interactive shell inherits SIGINT as SIG_IGN; Python then installs
no KeyboardInterrupt handler, and compose's ``stop_signal: SIGINT`` would leave the emulator running.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.helpers import free_port


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("backend", ["openml", "openml-v2", "mlte", "vantage6", "pytupli"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_emulator_stops_cleanly_with_sigint_inherited_ignored(backend: str, sig: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "emulate", backend, "--host", "127.0.0.1", "--port", str(free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_ignore_sigint,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith(f"{backend}: http://127.0.0.1:"), line
        process.send_signal(sig)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
