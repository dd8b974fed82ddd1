"""The real MLTE 2.7.0 backend on loopback: installed from PyPI into a cached venv, started, seeded, stopped by PID.

``start_real_mlte(state_dir)`` runs ``mlte backend --store-uri memory://`` from its own state directory (MLTE's
pydantic-settings would read a stray ``.env.backend`` from the working directory), waits for ``/api/healthz``
and replays ``adapters.mlte.emulator_data.seed_plan()`` through the real REST API, so the real server holds
the same models, versions and artifacts as the emulator (only the server-set timestamps differ).
``MLTETarget`` is what the contract suite talks to: either server, its API root, raw HTTP and cached tokens.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from adapters.mlte.emulator import RunningEmulator
from adapters.mlte.emulator_data import ADMIN, REGULAR_USERS, SeedCall, seed_plan
from gateway.settings import BackendSettings
from tests.backends.harness import ServerProcess, ensure_venv, find_python, free_port

PACKAGES = ("mlte[backend,rdbs]==2.7.0",)
PYTHON = (3, 11)


def mlte_venv() -> Path:
    """The cached venv with MLTE 2.7.0 (server and official client); installed on first use.

    The interpreter path is resolved first, so ``python``, ``python3`` and ``pytest`` launchers of one
    interpreter share one cached venv (the harness keys venvs by the path it is given).
    """
    return ensure_venv("mlte", PACKAGES, str(Path(find_python(PYTHON)).resolve()))


def http_json(method: str, url: str, *, body: Any = None, form: dict[str, str] | None = None,
              token: str | None = None, timeout: float = 30.0) -> tuple[int, Any]:
    """One blocking loopback call; returns (status, decoded JSON or text)."""
    headers: dict[str, str] = {}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def replay_over_http(url: str, calls: list[SeedCall], passwords: dict[str, str]) -> None:
    """Run seed calls against the MLTE API root ``url`` as their users; raise on the first failure."""
    tokens: dict[str, str] = {}
    for call in calls:
        if call.user not in tokens:
            status, doc = http_json("POST", f"{url}/token", form={"grant_type": "password", "username": call.user,
                                                                  "password": passwords[call.user]})
            if status != 200:
                raise RuntimeError(f"login of {call.user} failed: {status} {doc}")
            tokens[call.user] = doc["access_token"]
        status, doc = http_json(call.method, f"{url}/{call.path}", body=call.json, token=tokens[call.user])
        if status != 200:
            raise RuntimeError(f"seed call {call.method} {call.path} failed: {status} {doc}")
        if call.method == "POST" and call.path == "user":
            passwords[call.json["username"]] = call.json["password"]


@dataclass
class RealMLTE:
    """A running real MLTE server we started: API root ``url``, its JWT secret, its process."""

    url: str
    base_url: str
    jwt_secret: str
    process: ServerProcess
    state_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server by the PID we started it with."""
        self.process.stop()


def start_real_mlte(state_dir: Path, *, seed: bool = True) -> RealMLTE:
    """Install (cached), start on a free loopback port, wait for health, seed through the API."""
    started = time.monotonic()
    venv = mlte_venv()
    installed = time.monotonic()
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    secret = secrets.token_hex(16)
    argv = [str(venv / "bin" / "mlte"), "backend", "--host", "127.0.0.1", "--port", str(port),
            "--store-uri", "memory://", "--jwt-secret", secret]
    process = ServerProcess("mlte", argv, cwd=state_dir, env={"PYTHONUNBUFFERED": "1"}, log=state_dir / "mlte.log")
    base = f"http://127.0.0.1:{port}"
    server = RealMLTE(url=f"{base}/api", base_url=base, jwt_secret=secret, process=process, state_dir=state_dir)
    try:
        process.wait_http(f"{server.url}/healthz", timeout=120)
        healthy = time.monotonic()
        if seed:
            replay_over_http(server.url, seed_plan(), {ADMIN.username: ADMIN.password})
    except BaseException:
        server.stop()
        raise
    server.timings = {"install": installed - started, "start": healthy - installed,
                      "seed": time.monotonic() - healthy}
    return server


ALICE = REGULAR_USERS[0]
PASSWORDS = {ADMIN.username: ADMIN.password, ALICE.username: ALICE.password}


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response as it came over the wire."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class MLTETarget:
    """One MLTE server under test: ``emulator`` or ``real``; ``url`` is the API root."""

    name: str
    url: str
    base_url: str
    jwt_secret: str
    emulator: RunningEmulator | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def settings(self, **values: Any) -> BackendSettings:
        """BackendSettings for this target (generous timeouts: the real server's logins cost ~250 ms)."""
        return BackendSettings(url=self.url, timeout=30.0, **values)

    async def raw(self, method: str, path: str, *, json: Any = None, data: Any = None, token: str | None = None,
                  headers: dict[str, str] | None = None) -> RawResponse:
        """One raw call to ``<API root>/<path>`` (``path`` already encoded)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session, session.request(
                method, f"{self.url}/{path}", json=json, data=data, headers=sent) as response:
            body = await response.read()
            return RawResponse(response.status, {k.lower(): v for k, v in response.headers.items()}, body)

    async def token(self, username: str = ADMIN.username, password: str | None = None) -> str:
        """A bearer token for ``username`` (cached per session per user)."""
        if username not in self.tokens:
            form = {"grant_type": "password", "username": username,
                    "password": password if password is not None else PASSWORDS[username]}
            response = await self.raw("POST", "token", data=form)
            assert response.status == 200, (response.status, response.body)
            self.tokens[username] = response.json()["access_token"]
        return self.tokens[username]

    async def create_user(self, role: str = "regular") -> tuple[str, str]:
        """Create a throwaway user through ``POST /user`` as admin; returns (username, password)."""
        username, password = f"user-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
        response = await self.raw("POST", "user", token=await self.token(),
                                  json={"username": username, "password": password, "role": role, "groups": []})
        assert response.status == 200, (response.status, response.body)
        return username, password


def unique(prefix: str) -> str:
    """A model or version name no other test uses (tests share one server per session)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
