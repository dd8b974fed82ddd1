"""docker/compose.yaml's wiring, run with processes instead of containers (there is no Docker engine here).

Every emulator service runs its compose command (`gateway emulate <name> --host ... --port ...`, on 127.0.0.1 and a
free port instead of 0.0.0.0:8080) and must pass its compose healthcheck, run as written with only the port
changed. A gateway gets the replicas' compose environment (service host names mapped to those ports, `${...:-...}`
defaults applied, Redis from the test's redis-server), must report every backend up on /readyz, answer one query
that reaches every backend with no error (so the demo service accounts log in), and pass the image's HEALTHCHECK.
Emulators are stopped with compose's stop_signal (SIGINT) and must exit 0; the gateway with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.backends.harness import ServerProcess, free_port
from tests.deploy.support import ROOT, compose, emulator_services, gateway_serve, gateway_services

pytest_plugins = ["tests.backends.redis_server"]

EVERY_BACKEND = """{
  dataset(id: "openml:dataset:61") { name }
  models(first: 1) { edges { node { id } } }
  collaborations(first: 1) { edges { node { id } } }
  benchmarks(first: 1) { edges { node { id } } }
}"""


def _interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` against ``environ``."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if environ.get(name):
            return environ[name]
        assert op != ":?", f"compose would refuse to start: {arg}"
        return arg
    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value)


def _healthcheck_argv(test: list[str], port_from: int, port_to: int) -> list[str]:
    """A compose/Dockerfile ``CMD`` healthcheck as an argv for this machine: our python, our port."""
    assert test[0] == "CMD" and test[1] == "python", test
    return [sys.executable, *(arg.replace(f":{port_from}/", f":{port_to}/") for arg in test[2:])]


@contextlib.contextmanager
def emulators() -> Iterator[dict[str, tuple[int, ServerProcess]]]:
    """Each compose emulator service as a `gateway` process on a loopback port: {service: (port, process)}."""
    services = {name: svc for name, svc in compose()["services"].items() if svc in emulator_services().values()}
    running: dict[str, tuple[int, ServerProcess]] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    try:
        for name, svc in services.items():
            port = free_port()
            command = [arg.replace("0.0.0.0", "127.0.0.1") for arg in svc["command"]]
            command[command.index("--port") + 1] = str(port)
            argv = [sys.executable, "-m", "gateway.cli", *svc["entrypoint"][1:], *command]
            # A bind mount `source:target:ro` becomes the source directory itself, wherever the env names target.
            mounts = {target: str((ROOT / "docker" / source).resolve())
                      for source, target, *_ in (v.split(":") for v in svc.get("volumes", []))}
            environment = {k: mounts.get(str(v), str(v)) for k, v in (svc.get("environment") or {}).items()}
            running[name] = (port, ServerProcess(f"compose-{name}", argv, env={**env, **environment}, cwd=ROOT))
        yield running
    finally:
        for _, server in running.values():
            server.stop()


async def _passes(argv: list[str], attempts: int = 100) -> bool:
    """Run a healthcheck until it exits 0 (every 0.2 s, ``attempts`` times at most)."""
    for _ in range(attempts):
        process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL,
                                                       stderr=asyncio.subprocess.DEVNULL)
        if await process.wait() == 0:
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.fixture
async def stack(redis_url: str) -> AsyncIterator[tuple[str, dict[str, tuple[int, ServerProcess]]]]:
    with emulators() as running:
        for name, (port, server) in running.items():
            healthcheck = compose()["services"][name]["healthcheck"]["test"]
            assert await _passes(_healthcheck_argv(healthcheck, 8080, port)), f"{name}:\n{server.tail()}"
        replica = next(iter(gateway_services().values()))
        env: dict[str, str] = {}
        for key, raw in replica["environment"].items():
            value = _interpolate(str(raw), {"GATEWAY_REDIS_SECRET": "compose-stack-test-secret"})
            url = urlsplit(value)
            if key == "GATEWAY_REDIS_URL":
                value = redis_url
            elif url.hostname in running:
                value = url._replace(netloc=f"127.0.0.1:{running[url.hostname][0]}").geturl()
            env[key] = value
        env["GATEWAY_LOG_LEVEL"] = "warning"
        async with gateway_serve(env) as serve:
            yield serve.base_url, running
        for name, (_, server) in running.items():  # compose's stop_signal; a clean exit is 0
            server.process.send_signal(getattr(signal, compose()["services"][name]["stop_signal"]))
            code = await asyncio.to_thread(server.process.wait, 20)
            assert code == 0, f"{name} did not stop cleanly:\n{server.tail()}"


async def test_compose_stack_gateway_reaches_every_emulator(stack) -> None:
    base_url, running = stack
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.get(base_url + "/readyz") as resp:
            ready = await resp.json()
        async with session.post(base_url + "/graphql", json={"query": EVERY_BACKEND}) as resp:
            body = await resp.json()
    assert ready == {"status": "ready", "backends": {"mlte": "up", "openml": "up", "openml_v2": "up",
                                                     "pytupli": "up", "vantage6": "up"}}, ready
    assert "errors" not in body, json.dumps(body["errors"], indent=1)
    assert body["data"]["dataset"] == {"name": "iris"}
    for field in ("models", "collaborations", "benchmarks"):
        assert body["data"][field]["edges"], field
    assert sorted(running) == sorted(n for n, s in compose()["services"].items() if s in emulator_services().values())


async def test_compose_stack_image_healthcheck_passes_against_the_gateway(stack) -> None:
    base_url, _ = stack
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    command = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", dockerfile.replace("\\\n", " "), re.M)
    assert command is not None
    port = int(base_url.rsplit(":", 1)[1])
    assert await _passes(_healthcheck_argv(["CMD", *json.loads(command.group(1))], 8000, port), attempts=1)
