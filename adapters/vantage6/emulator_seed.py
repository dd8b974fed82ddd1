"""Replay the seed steps (``emulator_data.seed_steps``) on an emulator store, as the real API would apply them.

Task creation times are fixed (from ``base``) so the emulator's data is the same on every start; run times
are the steps' offsets after their task's creation, like the real-server seeder computes them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from adapters.vantage6.emulator_data import (
    CreateCollaboration,
    CreateNode,
    CreateOrganization,
    CreateTask,
    CreateUser,
    KillTask,
    PatchRun,
    SeedResult,
    Step,
)
from adapters.vantage6.emulator_store import Store

__all__ = ["BASE_TIME", "apply_steps", "encode_value"]

BASE_TIME = dt.datetime(2026, 3, 2, 8, 30, 0)


def encode_value(value: Any) -> str:
    """base64 of bytes as they are, or of JSON text: what the client sends as an input or a result."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def _created_at(key: int, base: dt.datetime) -> dt.datetime:
    return base + dt.timedelta(minutes=47 * (key - 1), seconds=13 * key, microseconds=(key * 104_729) % 1_000_000)


def apply_steps(store: Store, steps: list[Step], base: dt.datetime = BASE_TIME) -> SeedResult:
    """Apply ``steps`` in order and return the names -> ids map (ids match the real server's)."""
    seed = SeedResult()
    for step in steps:
        if isinstance(step, CreateOrganization):
            org = store.add_org(step.name, domain=step.domain or "", address1=step.address1 or "",
                                zipcode=step.zipcode or "", country=step.country or "")
            seed.organizations[step.name] = org.id
        elif isinstance(step, CreateCollaboration):
            collab = store.add_collab(step.name, [seed.organizations[o] for o in step.organizations], step.encrypted)
            seed.collaborations[step.name] = collab.id
        elif isinstance(step, CreateNode):
            node = store.add_node(seed.collaborations[step.collaboration], seed.organizations[step.organization],
                                  step.name)
            seed.nodes[(step.organization, step.collaboration)] = node.id
            seed.node_keys[node.id] = node.api_key
        elif isinstance(step, CreateUser):
            user = store.add_user(step.username, step.password, step.firstname, step.lastname, step.email,
                                  seed.organizations[step.organization], [step.role_id])
            seed.users[step.username] = user.id
        elif isinstance(step, CreateTask):
            _create_task(store, seed, step, base)
        elif isinstance(step, PatchRun):
            _patch(store, seed, step)
        elif isinstance(step, KillTask):
            store.kill(store.tasks[seed.tasks[step.task]])
    return seed


def _create_task(store: Store, seed: SeedResult, step: CreateTask, base: dt.datetime) -> None:
    creator = store.users[seed.users[step.creator]]
    inputs = [(seed.organizations[o], encode_value(step.input)) for o in step.organizations]
    task = store.add_task(
        collab_id=seed.collaborations[step.collaboration], init_org_id=creator.organization_id,
        init_user_id=creator.id, name=step.name, description=step.description, image=step.image, inputs=inputs,
        databases=[(label, "{}") for label in step.databases], created_at=_created_at(step.key, base),
    )
    seed.tasks[step.key] = task.id
    for run in store.task_runs(task.id):
        org_name = store.orgs[run.organization_id].name
        seed.runs[(step.key, org_name)] = run.id


def _patch(store: Store, seed: SeedResult, step: PatchRun) -> None:
    run = store.runs[seed.runs[(step.task, step.organization)]]
    created = store.tasks[run.task_id].created_at.replace(microsecond=0)  # whole-second base, as the real seeder
    started = created + dt.timedelta(seconds=step.started) if step.started is not None else None
    finished = created + dt.timedelta(seconds=step.finished) if step.finished is not None else None
    data: dict[str, Any] = {"status": step.status}
    if step.log is not None:
        data["log"] = step.log
    if step.result is not None:
        data["result"] = encode_value(step.result)
    store.patch_run(run, data, started, finished)
    node = store.run_node(run)
    if node is not None:
        node.last_seen = finished or started or created
