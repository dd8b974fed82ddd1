"""pytest fixtures for vantage6: the emulator and the real server, seeded alike, as one parametrized target.

Register with ``pytest_plugins = ["tests.backends.vantage6_fixtures"]`` in a test module. ``vantage6_target``
is session scoped and parametrized over ``emulator`` and ``real`` (pytest groups the tests by target, so the
real server is installed, started and seeded once per session, and stopped by PID at the end).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.records.vantage6 import Vantage6TokenPair
from adapters.vantage6.admin import Vantage6Admin
from adapters.vantage6.client import Vantage6Client
from adapters.vantage6.emulator import EmulatorConfig, RunningEmulator, start_emulator
from adapters.vantage6.emulator_data import ROOT_PASSWORD, USERS, SeedResult
from gateway.http import BackendHTTP, HTTPPolicy
from gateway.settings import BackendSettings
from tests.backends.vantage6_server import RealVantage6, seed_real, start_real_vantage6

__all__ = ["Vantage6Target"]

# The nodes the seed logs in as (they own the runs of collab-1 and collab-2).
WORKING_NODES = (("Org A", "collab-1"), ("Org B", "collab-1"), ("Org C", "collab-1"), ("Org A", "collab-2"),
                 ("Org B", "collab-2"))


@dataclass
class Vantage6Target:
    """One vantage6 server under test, with the seed's ids and ready tokens (logins cost a bcrypt each)."""

    name: str
    url: str
    seed: SeedResult
    tokens: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    node_tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    emulator: RunningEmulator | None = None
    real: RealVantage6 | None = None

    def settings(self, **values: Any) -> BackendSettings:
        return BackendSettings(url=self.url, **values)

    @contextlib.asynccontextmanager
    async def client(
        self, *, retries: int = 0, total_timeout: float = 30.0, **kwargs: Any,
    ) -> AsyncIterator[Vantage6Client]:
        """A client on a fresh ``BackendHTTP`` (``http.stats`` counts its calls); ``kwargs`` go to the settings
        (``username``, ``password``, ``token``) or the client (``scan_per_page``, ``scan_max_pages``,
        ``token_margin``)."""
        client_keys = {"scan_per_page", "scan_max_pages", "token_margin"}
        http = BackendHTTP("vantage6", self.url, HTTPPolicy(total_timeout=total_timeout, retries=retries))
        settings = self.settings(**{k: v for k, v in kwargs.items() if k not in client_keys})
        try:
            yield Vantage6Client(http, settings, **{k: v for k, v in kwargs.items() if k in client_keys})
        finally:
            await http.close()

    def task(self, key: int) -> int:
        return self.seed.tasks[key]

    def org(self, name: str) -> int:
        return self.seed.organizations[name]

    def collab(self, name: str) -> int:
        return self.seed.collaborations[name]


async def _login_all(target: Vantage6Target, known: dict[str, Vantage6TokenPair] | None = None,
                     known_nodes: dict[int, Vantage6TokenPair] | None = None) -> Vantage6Target:
    """Fill the target's tokens, reusing the logins the seeding already did (each costs a bcrypt)."""
    known, known_nodes = known or {}, known_nodes or {}
    async with target.client() as client:
        admin = Vantage6Admin(client)
        passwords = {"root": ROOT_PASSWORD, **{name: user.password for name, user in USERS.items()}}
        for name, password in passwords.items():
            pair = known.get(name) or await client.login(name, password)
            target.tokens[name] = pair.access_token
            target.refresh_tokens[name] = pair.refresh_token or ""
        for where in WORKING_NODES:
            node_id = target.seed.nodes[where]
            pair = known_nodes.get(node_id) or await admin.node_login(target.seed.node_keys[node_id])
            target.node_tokens[where] = pair.access_token
    return target


@pytest.fixture(scope="session")
async def vantage6_emulator() -> AsyncIterator[RunningEmulator]:
    """The seeded emulator on a free loopback port, for the whole session."""
    emulator = await start_emulator(EmulatorConfig())
    try:
        yield emulator
    finally:
        await emulator.close()


@pytest.fixture(scope="session")
async def vantage6_real(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RealVantage6]:
    """The real vantage6-server 4.15.2 (installed on first use), seeded through its API; stopped by PID."""
    server = await asyncio.to_thread(start_real_vantage6, tmp_path_factory.mktemp("vantage6") / "state")
    try:
        await seed_real(server)
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture(scope="session")
async def vantage6_emulator_target(vantage6_emulator: RunningEmulator) -> Vantage6Target:
    target = Vantage6Target("emulator", vantage6_emulator.url, vantage6_emulator.state.seed,
                            emulator=vantage6_emulator)
    return await _login_all(target)


@pytest.fixture(scope="session")
async def vantage6_real_target(vantage6_real: RealVantage6) -> Vantage6Target:
    target = Vantage6Target("real", vantage6_real.url, vantage6_real.seed, real=vantage6_real)
    return await _login_all(target, vantage6_real.tokens, vantage6_real.node_tokens)


@pytest.fixture(scope="session", params=["emulator", "real"])
def vantage6_target(request: pytest.FixtureRequest) -> Vantage6Target:
    """Each vantage6 target in turn: the emulator, then the real server."""
    return request.getfixturevalue(f"vantage6_{request.param}_target")
