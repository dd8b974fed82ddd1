"""The runs look-ahead asks, before the page completes, exactly what the page's fields will ask for."""

from __future__ import annotations

import asyncio
from collections import Counter

from strawberry.types.nodes import SelectedField

from adapters.openml_v1.client import ListQuery, OpenMLV1Client
from adapters.openml_v1.emulator import RunningEmulator
from gateway.cache import RecordCache
from gateway.http import BackendHTTP
from schema import build_schema
from schema.loaders import OpenMLLoaders
from schema.types.runs import _FLOW_NAMES, _FREE, _RECORD_FIELDS, want_for_runs
from tests.helpers import settings_for


def _field(name: str, *selections: SelectedField, **arguments: object) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments=dict(arguments), selections=list(selections),
                         alias=None)


def test_look_ahead_field_names_are_the_schemas() -> None:
    """A renamed field would silently lose its look-ahead: the names it knows must exist on the types."""
    schema = build_schema().as_str()
    run = schema.split("type OpenMLRun ", 1)[1].split("\n}", 1)[0]
    flow = schema.split("type Flow ", 1)[1].split("\n}", 1)[0]
    for name in _RECORD_FIELDS | {"flow", "task", "dataset", "evaluation", "evaluations"} | (_FREE - {"__typename"}):
        assert f"\n  {name}" in run, name
    for name in _FLOW_NAMES:
        assert f"\n  {name}" in flow, name


async def test_want_for_runs_loads_in_one_batch_per_loader(openml_emulator: RunningEmulator) -> None:
    http = BackendHTTP("openml", openml_emulator.url)
    try:
        client = OpenMLV1Client(http)
        loaders = OpenMLLoaders(client, RecordCache(), settings_for(openml_emulator.url), caller_key=None,
                                request_id=None)
        runs = (await client.list_runs(ListQuery.of(task=[31]), limit=10))[:10]
        selected = [_field("id"), _field("flow", _field("id"), _field("name")), _field("task", _field("name")),
                    _field("evaluation", _field("value"), measure="predictive_accuracy"), _field("tags"),
                    _field("task", _field("id"))]
        openml_emulator.state.reset_calls()
        pending = want_for_runs(loaders, runs, selected)
        await asyncio.gather(*pending)
        calls = [c.path.split("/api/v1/xml/", 1)[-1] for c in openml_emulator.state.calls]
        kinds = Counter("run/{id}" if p.split("/")[1].isdigit() else "/".join(p.split("/")[:3]) for p in calls)
        assert kinds == {"evaluation/list/function": 1, "task/list/task_id": 1, "run/{id}": 10}, kinds
        # every field of the page now resolves without I/O
        assert all(loaders.flow_name.peek(r.flow_id)[0] for r in runs)
        assert all(loaders.evaluation.peek((r.id, "predictive_accuracy"))[0] for r in runs)
        assert all(loaders.task_summary.peek(r.task_id)[0] and loaders.run.peek(r.id)[0] for r in runs)
        assert want_for_runs(loaders, runs, selected) == []  # known records are not asked again
    finally:
        await http.close()
