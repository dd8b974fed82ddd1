"""Helpers of the deployment tests: docker/compose.yaml parsed, nginx as a foreground process of our own,
`gateway serve` processes (uvicorn workers included) and Prometheus text.

Everything listens on 127.0.0.1 and is stopped by the PID we started; nothing here touches a process we did not
start (the Debian package's own nginx service is never used).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.backends.harness import ServerProcess, free_port

__all__ = [
    "IMAGE", "ROOT", "NginxProcess", "ServeProcess", "compose", "emulator_services", "ensure_nginx", "gateway_serve",
    "gateway_services", "metric_total", "nginx_config_for", "running_nginx", "scrape",
]

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_NGINX_CONF = ROOT / "docker" / "nginx.conf"
IMAGE = "ml-metadata-gateway:" + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
_UPSTREAM_SERVER = re.compile(r"^(\s*server\s+)gateway-\d+:8000(\s)", re.M)
_LISTEN = re.compile(r"^(\s*listen\s+)8080;", re.M)


@cache
def compose() -> dict[str, Any]:
    """docker/compose.yaml, parsed (PyYAML resolves its ``<<: *anchor`` merges)."""
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def gateway_services() -> dict[str, dict[str, Any]]:
    """The compose services that run the gateway image's own entrypoint (`gateway serve`), by name."""
    return {name: svc for name, svc in compose()["services"].items()
            if svc.get("image") == IMAGE and "entrypoint" not in svc}


def emulator_services() -> dict[str, dict[str, Any]]:
    """The compose services that run `gateway emulate <name>`, by emulator name."""
    return {svc["entrypoint"][2]: svc for svc in compose()["services"].values()
            if svc.get("entrypoint", [])[:2] == ["gateway", "emulate"]}


def _nginx_binary() -> str | None:
    return shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def ensure_nginx() -> str:
    """Return the path of nginx, running the project's scripts/test-setup.sh when it is missing."""
    found = _nginx_binary()
    if found:
        return found
    subprocess.run(["bash", str(ROOT / "scripts" / "test-setup.sh")], check=True, timeout=1800)
    found = _nginx_binary()
    if not found:
        raise RuntimeError("nginx is still missing after scripts/test-setup.sh")
    return found


def nginx_config_for(shipped: str, upstreams: Sequence[str], port: int) -> str:
    """The shipped ``docker/nginx.conf`` with its upstream servers and listen port pointed at loopback.

    Raises ``AssertionError`` when the shipped file no longer has one ``server gateway-N:8000`` line per
    upstream and one ``listen 8080;``: the test must run the file compose mounts, not a paraphrase of it.
    """
    servers = iter(upstreams)
    rewritten, count = _UPSTREAM_SERVER.subn(lambda m: f"{m.group(1)}{next(servers)}{m.group(2)}", shipped)
    assert count == len(upstreams), f"docker/nginx.conf has {count} upstream servers, expected {len(upstreams)}"
    rewritten, listens = _LISTEN.subn(rf"\g<1>127.0.0.1:{port};", rewritten)
    assert listens == 1, "docker/nginx.conf must have exactly one `listen 8080;`"
    return rewritten


def _main_config(workdir: Path, include: Path) -> str:
    """The outer nginx.conf of a test instance: every path in ``workdir``; X-Upstream added for the test only."""
    user = ""
    if os.geteuid() == 0:  # root's workers need an unprivileged user and group that exist (Debian's)
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
        user = "user nobody nogroup;"
    return f"""
{user}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    log_format upstreams '$status $upstream_addr $upstream_status $request_method $uri';
    access_log {workdir}/access.log upstreams;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    # Test instrumentation, not in the shipped file: which replica answered (the shipped file does not tell
    # clients its internal addresses).
    add_header X-Upstream $upstream_addr always;
    include {include};
}}
"""


@dataclass
class NginxProcess:
    """A running nginx of ours: its URL, work directory and the master's PID."""

    url: str
    workdir: Path
    server: ServerProcess

    @property
    def pid(self) -> int:
        return self.server.pid

    def access_log(self) -> list[tuple[int, str]]:
        """``(status, upstream address)`` of every request nginx logged so far."""
        rows = []
        for line in (self.workdir / "access.log").read_text().splitlines():
            status, upstream, *_ = line.split(" ")
            rows.append((int(status), upstream))
        return rows


@contextlib.contextmanager
def running_nginx(upstreams: Sequence[str]) -> Iterator[NginxProcess]:
    """nginx in the foreground (``daemon off``) running docker/nginx.conf in front of ``upstreams``."""
    binary = ensure_nginx()
    workdir = Path(tempfile.mkdtemp(prefix="gateway-nginx-"))
    workdir.chmod(0o755)  # the worker runs as nobody when we are root: it must reach the temp paths
    port = free_port()
    include = workdir / "gateway.conf"
    include.write_text(nginx_config_for(SHIPPED_NGINX_CONF.read_text(), upstreams, port))
    main = workdir / "nginx.conf"
    main.write_text(_main_config(workdir, include))
    argv = [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(main)]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    server = ServerProcess("nginx", [*argv, "-g", "daemon off;"], log=workdir / "stdout.log")
    try:
        server.wait_http(f"http://127.0.0.1:{port}/nginx-health", timeout=30)
        assert int((workdir / "nginx.pid").read_text()) == server.pid  # the master is the process we started
        yield NginxProcess(url=f"http://127.0.0.1:{port}", workdir=workdir, server=server)
    finally:
        _quit(server)
        shutil.rmtree(workdir, ignore_errors=True)


def _quit(server: ServerProcess) -> None:
    """Graceful stop by PID (SIGQUIT lets the worker finish its requests), SIGTERM/SIGKILL after 10 s."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGQUIT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=10)
    server.stop()


def metric_total(text: str, sample: str, labels: Mapping[str, str] | None = None) -> float:
    """Sum of the samples named ``sample`` (e.g. ``gateway_cache_l2_hits_total``) whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == sample and all(item.labels.get(k) == v for k, v in (labels or {}).items()):
                total += item.value
    return total


async def scrape(session: aiohttp.ClientSession, base_url: str) -> str:
    """GET ``base_url``/metrics on a fresh connection; return the Prometheus text."""
    async with session.get(base_url + "/metrics", headers={"Connection": "close"}) as resp:
        assert resp.status == 200
        return await resp.text()


@dataclass
class ServeProcess:
    """`gateway serve` started by us: the uvicorn master's process and its base URL."""

    process: asyncio.subprocess.Process
    base_url: str
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """PIDs of the uvicorn workers (the master's children that run ``spawn_main``, not the resource tracker)."""
        children: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                children += [int(pid) for pid in (task / "children").read_text().split()]
        workers = []
        for pid in children:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    workers.append(pid)
        return sorted(workers)


@contextlib.asynccontextmanager
async def gateway_serve(env: Mapping[str, str], *args: str, command: Sequence[str] = (), cwd: Path | None = None,
                        ) -> AsyncIterator[ServeProcess]:
    """Run ``gateway serve --port P *args`` with GATEWAY_* ``env``; SIGTERM to its PID on exit (then SIGKILL).

    ``command`` replaces ``python -m gateway.cli`` (e.g. the ``gateway`` script of an installed wheel).
    """
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(command or (sys.executable, "-m", "gateway.cli")), "serve", "--port", str(port), "--log-level", "warning",
        *args, env={**os.environ, **env}, start_new_session=True, cwd=cwd,
    )
    serve = ServeProcess(process=process, base_url=f"http://127.0.0.1:{port}", port=port)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):  # 30 s at most
                if process.returncode is not None:
                    raise RuntimeError(f"gateway serve exited with {process.returncode}")
                try:
                    async with session.get(serve.base_url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("gateway serve did not answer /healthz within 30 s")
        yield serve
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
