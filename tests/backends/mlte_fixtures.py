"""Pytest fixtures for MLTE: the emulator and the real server, and ``mlte_target`` parametrized over both.

Register with ``pytest_plugins = ["tests.backends.mlte_fixtures"]`` in a test module (helpers such as
``MLTETarget`` live in ``tests.backends.mlte_server``, so importing them does not pre-import this plugin).
The real server is installed (cached venv), started and seeded once per session; the emulator runs in the
session's event loop, so tests talk to both over HTTP with aiohttp (a blocking call would stall the emulator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.mlte.client import MLTEClient
from adapters.mlte.emulator import EmulatorConfig, RunningEmulator, start_emulator
from gateway.http import BackendHTTP, HTTPPolicy
from tests.backends.mlte_server import MLTETarget, RealMLTE, start_real_mlte


@pytest.fixture(scope="session")
async def mlte_emulator() -> AsyncIterator[RunningEmulator]:
    emulator = await start_emulator(EmulatorConfig())
    try:
        yield emulator
    finally:
        await emulator.close()


@pytest.fixture(scope="session")
def mlte_real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealMLTE]:
    server = start_real_mlte(tmp_path_factory.mktemp("mlte-state"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=["emulator", "real"])
def mlte_target(request: pytest.FixtureRequest) -> MLTETarget:
    if request.param == "emulator":
        emulator: RunningEmulator = request.getfixturevalue("mlte_emulator")
        return MLTETarget("emulator", emulator.url, emulator.base_url, EmulatorConfig().jwt_secret, emulator)
    real: RealMLTE = request.getfixturevalue("mlte_real_server")
    return MLTETarget("real", real.url, real.base_url, real.jwt_secret)


@pytest.fixture
async def mlte_http(mlte_target: MLTETarget) -> AsyncIterator[BackendHTTP]:
    http = BackendHTTP("mlte", mlte_target.url, HTTPPolicy(total_timeout=30.0, retries=2, retry_backoff=0.01))
    try:
        yield http
    finally:
        await http.close()


@pytest.fixture
async def mlte_admin(mlte_target: MLTETarget, mlte_http: BackendHTTP) -> MLTEClient:
    """A client whose service credential is a static admin token (no login per test)."""
    return MLTEClient(mlte_http, mlte_target.settings(token=await mlte_target.token()))
