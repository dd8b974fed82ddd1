"""Fixtures of the HTTP protocol tests: one gateway per module in front of the shared OpenML emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for


@pytest.fixture(scope="module")
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    """The gateway with default settings (APQ on, no allow-list) on 127.0.0.1."""
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        yield gw
