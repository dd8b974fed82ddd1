"""Hostile or careless documents are refused with QUERY_TOO_COMPLEX before any backend call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.helpers import RunningGateway, running_gateway, settings_for


@pytest.fixture
async def gateway(openml_emulator: RunningEmulator) -> AsyncIterator[RunningGateway]:
    async with running_gateway(settings_for(openml_emulator.url)) as gw:
        openml_emulator.state.reset_calls()
        yield gw


def _deep(levels: int) -> str:
    inner = "id"
    for _ in range(levels // 5):
        inner = f"task {{ runs(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f'{{ run(id: "openml:run:100") {{ {inner} }} }}'


async def _refused(gateway: RunningGateway, emulator: RunningEmulator, document: str,
                   variables: dict | None = None) -> str:
    body = await gateway.query(document, variables)
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    assert emulator.state.calls == []
    return error["message"]


async def test_limits_forty_levels_deep_refused(gateway: RunningGateway, openml_emulator: RunningEmulator) -> None:
    message = await _refused(gateway, openml_emulator, _deep(40))
    assert "levels deep" in message


async def test_limits_within_depth_runs(gateway: RunningGateway, openml_emulator: RunningEmulator) -> None:
    body = await gateway.query(_deep(10))
    assert "errors" not in body and body["data"]["run"]["task"]


async def test_limits_thousand_aliases_refused(gateway: RunningGateway, openml_emulator: RunningEmulator) -> None:
    aliases = " ".join(f'a{i}: dataset(id: "openml:dataset:61") {{ id }}' for i in range(1000))
    message = await _refused(gateway, openml_emulator, f"{{ {aliases} }}")
    assert "aliases" in message or "tokens" in message


async def test_limits_aliases_inside_fragments_count_per_spread(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    fragment = "fragment F on Dataset { " + " ".join(f"n{i}: name" for i in range(20)) + " }"
    spreads = " ".join(f'd{i}: dataset(id: "openml:dataset:61") {{ ...F }}' for i in range(10))
    message = await _refused(gateway, openml_emulator, f"{{ {spreads} }} {fragment}")
    assert "aliases" in message  # 20 aliases x 10 spreads + 10 = 210 > 100, though the text has only 30


async def test_limits_fragment_bomb_priced_without_expanding(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    fragments = ["fragment F0 on Dataset { name }"]
    for level in range(1, 9):
        fragments.append(f"fragment F{level} on Dataset {{ " + " ".join([f"...F{level - 1}"] * 10) + " }")
    document = '{ dataset(id: "openml:dataset:61") { ...F8 } } ' + " ".join(fragments)
    message = await _refused(gateway, openml_emulator, document)
    assert "items" in message


async def test_limits_huge_first_refused_small_overflow_is_bad_input(
    gateway: RunningGateway, openml_emulator: RunningEmulator,
) -> None:
    query = 'query($n: Int) { runs(filter: {taskIds: ["openml:task:31"]}, first: $n) { edges { node { id } } } }'
    await _refused(gateway, openml_emulator, query, {"n": 100000})
    body = await gateway.query(query, {"n": 501})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_limits_token_count_refused(gateway: RunningGateway, openml_emulator: RunningEmulator) -> None:
    document = "{ __typename " + "__typename " * 6000 + "}"
    await _refused(gateway, openml_emulator, document)
