"""The optional whole-response cache: repeated successes from memory, per credential, emptied by mutations."""

from __future__ import annotations

from adapters.openml_v1.emulator import EmulatorConfig, start_emulator
from tests.helpers import running_gateway, settings_for

QUERY = 'query($id: ID!) { dataset(id: $id) { name tags } }'


async def test_response_cache_serves_repeats_and_respects_scope_and_mutations() -> None:
    emulator = await start_emulator(EmulatorConfig())
    try:
        async with running_gateway(settings_for(emulator.url, response_cache="true")) as gw:
            first = await gw.query(QUERY, {"id": "openml:dataset:61"})
            hits_before = gw.services.cache.stats.hits
            emulator.state.reset_calls()
            again = await gw.query(QUERY, {"id": "openml:dataset:61"})
            assert again == first and emulator.state.calls == []
            assert gw.services.cache.stats.hits == hits_before  # GraphQL did not even run

            await gw.query(QUERY, {"id": "openml:dataset:61"}, headers={"X-OpenML-Api-Key": "demo-key-bob"})
            assert {c.query.get("api_key") for c in emulator.state.calls} == {"demo-key-bob"}

            emulator.state.reset_calls()
            await gw.query(QUERY, {"id": "openml:dataset:999999"})
            await gw.query(QUERY, {"id": "openml:dataset:999999"})
            assert sum(c.path.endswith("/data/999999") for c in emulator.state.calls) == 1  # errors never stored;
            # the second call was answered by the record cache's brief negative entry, not by this cache

            tagged = await gw.query('mutation { addTag(id: "openml:dataset:61", tag: "fresh") }',
                                    headers={"X-OpenML-Api-Key": "demo-key-alice"})
            assert "fresh" in tagged["data"]["addTag"]
            after = await gw.query(QUERY, {"id": "openml:dataset:61"})
            assert "fresh" in after["data"]["dataset"]["tags"]
    finally:
        await emulator.close()
