"""Shared fixtures: the OpenML v1 emulator on 127.0.0.1 for the whole session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.openml_v1.emulator import EmulatorConfig, RunningEmulator, start_emulator


@pytest.fixture(scope="session")
async def openml_emulator() -> AsyncIterator[RunningEmulator]:
    emulator = await start_emulator(EmulatorConfig())
    try:
        yield emulator
    finally:
        await emulator.close()
