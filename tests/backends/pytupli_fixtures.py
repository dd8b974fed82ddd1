"""pytest fixtures for pytupli: the emulator and the real server (installed on first use), both seeded with the
same plan, as one session-scoped fixture parametrized over ``["emulator", "real"]``.

Register with ``pytest_plugins = ["tests.backends.pytupli_fixtures"]`` in the test modules that use it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from adapters.pytupli.client import PytupliClient
from adapters.pytupli.emulator import EmulatorConfig, RunningEmulator, start_emulator
from adapters.pytupli.emulator_data import SeedPlan, build_plan
from gateway.http import BackendHTTP
from gateway.settings import BackendSettings
from tests.backends.pytupli_server import PytupliServer, seed_through_api, start_pytupli_server

__all__ = [
    "PytupliTarget",
    "pytupli_emulator",
    "pytupli_emulator_target",
    "pytupli_real_server",
    "pytupli_real_target",
    "pytupli_target",
]

ADMIN_PASSWORD = "pytupli-admin"
WRITER = ("carol", "carol-pass-1")  # signed up per target; owns everything the write tests create


@dataclass
class PytupliTarget:
    """One pytupli backend under test: its URL, the plan it was seeded with, and clients for its users."""

    name: str
    url: str
    plan: SeedPlan
    emulator: RunningEmulator | None = None
    server: PytupliServer | None = None
    http: BackendHTTP = field(init=False)
    _clients: dict[str, PytupliClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = BackendHTTP("pytupli", self.url)
        self.plan.passwords.setdefault(*WRITER)

    def client(self, user: str | None = None, *, clock: Callable[[], float] | None = None,
               http: BackendHTTP | None = None) -> PytupliClient:
        """A client whose service account is ``user`` (None: anonymous); cached unless given a clock or http."""
        settings = BackendSettings(url=self.url, username=user, password=self.plan.passwords.get(user or ""))
        if clock is not None or http is not None:
            extra = {"clock": clock} if clock is not None else {}
            return PytupliClient(http or self.http, settings, **extra)
        key = user or ""
        if key not in self._clients:
            self._clients[key] = PytupliClient(self.http, settings)
        return self._clients[key]

    async def token(self, user: str) -> str:
        """A valid access token of ``user`` (cached and refreshed by the client's ServiceToken)."""
        service = self.client(user).service_token
        assert service is not None
        return await service.get()

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture(scope="session")
async def pytupli_emulator() -> AsyncIterator[RunningEmulator]:
    """The seeded emulator, served on a free loopback port for the whole session."""
    emulator = await start_emulator(EmulatorConfig(admin_password=ADMIN_PASSWORD))
    try:
        yield emulator
    finally:
        await emulator.close()


@pytest.fixture(scope="session")
async def pytupli_real_server() -> AsyncIterator[PytupliServer]:
    """The real pytupli server (venv cached by the harness), seeded through its API; stopped by PID."""
    server = await asyncio.to_thread(start_pytupli_server, ADMIN_PASSWORD)
    try:
        await asyncio.to_thread(seed_through_api, server.url, build_plan(ADMIN_PASSWORD))
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def _with_writer(target: PytupliTarget) -> PytupliTarget:
    response = await target.http.request("GET", "access/users/list", endpoint="users/list",
                                         headers={"Authorization": f"Bearer {await target.token('admin')}"})
    if WRITER[0] not in {u["username"] for u in json.loads(response.body)}:
        await target.client().signup(*WRITER)
    return target


@pytest.fixture(scope="session")
async def pytupli_emulator_target(pytupli_emulator: RunningEmulator) -> AsyncIterator[PytupliTarget]:
    """The emulator as a target."""
    target = await _with_writer(PytupliTarget(name="emulator", url=pytupli_emulator.url,
                                              plan=build_plan(ADMIN_PASSWORD), emulator=pytupli_emulator))
    try:
        yield target
    finally:
        await target.close()


@pytest.fixture(scope="session")
async def pytupli_real_target(pytupli_real_server: PytupliServer) -> AsyncIterator[PytupliTarget]:
    """The real server as a target."""
    target = await _with_writer(PytupliTarget(name="real", url=pytupli_real_server.url,
                                              plan=build_plan(ADMIN_PASSWORD), server=pytupli_real_server))
    try:
        yield target
    finally:
        await target.close()


@pytest.fixture(scope="session", params=["emulator", "real"])
def pytupli_target(request: pytest.FixtureRequest) -> PytupliTarget:
    """Each test that takes this runs against the emulator and against the real server (started lazily)."""
    return request.getfixturevalue(f"pytupli_{request.param}_target")
