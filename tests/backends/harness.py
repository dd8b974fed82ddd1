"""Install and run real upstream servers for contract tests: venvs from PyPI, loopback ports, stop by PID.

Venvs are cached under ``$GATEWAY_BACKEND_CACHE`` (default ``~/.cache/ml-gateway``) keyed by the exact package
list, so a warm machine starts servers in seconds and a cold one installs them once (a file lock keeps
parallel test sessions from installing the same venv twice).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

CACHE = Path(os.environ.get("GATEWAY_BACKEND_CACHE") or Path.home() / ".cache" / "ml-gateway")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = out.split(".")
    return int(major), int(minor)


def find_python(version: tuple[int, int]) -> str:
    """Return an interpreter of ``version``: this one, one on PATH, or one from pyenv (installed if needed)."""
    if sys.version_info[:2] == version:
        return sys.executable
    name = f"python{version[0]}.{version[1]}"
    candidates = [shutil.which(name) or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += sorted((str(p / "bin" / "python3") for p in (pyenv_root / "versions").glob(f"{name[6:]}.*")),
                         reverse=True)
    for candidate in candidates:
        if candidate and python_version(candidate) == version:
            return candidate
    pyenv = shutil.which("pyenv") or str(pyenv_root / "bin" / "pyenv")
    if Path(pyenv).exists():
        subprocess.run([pyenv, "install", "--skip-existing", f"{version[0]}.{version[1]}"], check=True, timeout=1800)
        for candidate in sorted(pyenv_root.glob(f"versions/{version[0]}.{version[1]}.*/bin/python3"), reverse=True):
            if python_version(str(candidate)) == version:
                return str(candidate)
    raise RuntimeError(f"no Python {version[0]}.{version[1]} found or installable here")


def ensure_venv(name: str, packages: Sequence[str], python: str | None = None) -> Path:
    """Return a venv with ``packages`` installed (cached by content; installed on first use)."""
    interpreter = str(Path(python or sys.executable).resolve())
    key = hashlib.sha256(("\n".join([interpreter, *packages])).encode()).hexdigest()[:12]
    venv = CACHE / "venvs" / f"{name}-{key}"
    marker = venv / ".complete"
    if marker.exists():
        return venv
    with _locked(CACHE / "locks" / f"{name}-{key}.lock"):
        if marker.exists():
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *packages], check=True, timeout=1800)
        marker.touch()
    return venv


class ServerProcess:
    """A server we started ourselves; stopped by its PID (and process group) only."""

    def __init__(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None, log: Path | None = None) -> None:
        self.name = name
        self.log = log or (CACHE / "logs" / f"{name}-{os.getpid()}.log")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        merged = {**os.environ, **(env or {})}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(list(argv), env=merged, cwd=str(cwd) if cwd else None, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    def wait_http(self, url: str, *, timeout: float = 120.0, ok: Sequence[int] = (200,)) -> None:
        """Wait until GET ``url`` answers with a status in ``ok``; raise with the log tail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status in ok:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code in ok:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group we started, then SIGKILL after ``timeout``."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
