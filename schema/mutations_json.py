"""Mutations of the JSON backends, each with the caller's own token (never the service account):
write and delete MLTE artifacts; create, kill and delete vantage6 tasks; publish, unpublish and delete pytupli
benchmarks, artifacts and episodes. Never retried; a timeout is an unknown outcome; every cached record of the
entity and every cached list of its backend is dropped here and on every replica afterwards.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.errors import BadUserInputError, UnauthenticatedError
from gateway.ids import parse_global_id, parse_int_id
from schema.types.mlte import MLTEArtifact, artifact_key, mlte_parts
from schema.types.vantage6 import Vantage6Task

__all__ = ["JsonMutation"]

HEADERS = {"mlte": "X-MLTE-Token", "vantage6": "X-Vantage6-Token", "pytupli": "X-Pytupli-Token"}


def _caller(info: strawberry.Info, backend: str) -> str:
    token = getattr(info.context.credentials, backend)
    if not token:
        raise UnauthenticatedError(f"This mutation needs your own {backend} token in the {HEADERS[backend]} header.",
                                   backend=backend)
    return str(token)


def _client(info: strawberry.Info, backend: str) -> Any:
    loaders = getattr(info.context.loaders, backend)
    if loaders.client is None:
        raise loaders.unavailable()
    return loaders


@strawberry.input(description="One organization of a new vantage6 task and its input (any JSON).")
class Vantage6TaskInput:
    organization_id: strawberry.ID
    input: JSON | None = None


@strawberry.type
class JsonMutation:
    @strawberry.mutation(description="Write an MLTE artifact under a model version (MLTE may rewrite its id).")
    async def write_mlte_artifact(self, info: strawberry.Info, version_id: strawberry.ID, artifact: JSON,
                                  force: bool = False) -> MLTEArtifact:
        model, version = mlte_parts(version_id, "version", (2,))
        if not isinstance(artifact, dict) or "header" not in artifact or "body" not in artifact:
            raise BadUserInputError("`artifact` must be an object with `header` and `body` (MLTE's ArtifactModel).",
                                    backend="mlte")
        token = _caller(info, "mlte")
        loaders = _client(info, "mlte")
        try:
            record = await loaders.client.write_artifact(model, version, artifact, token, force=force)
        finally:
            await loaders.invalidate(("artifact", "model", "version"), model)
        return MLTEArtifact.from_record(record, loaders)

    @strawberry.mutation(description="Delete an MLTE artifact; a model-level one leaves every version.")
    async def delete_mlte_artifact(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        model, version, name = artifact_key(id)
        token = _caller(info, "mlte")
        loaders = _client(info, "mlte")
        if version is None:
            record = await loaders.model.load(model)
            if not record.versions:
                raise BadUserInputError(f"Model {model} has no version to delete {name} through.", backend="mlte")
            version = record.versions[0]
        try:
            await loaders.client.delete_artifact(model, version, name, token)
        finally:
            await loaders.invalidate(("artifact",), (model, version, name))
        return True

    @strawberry.mutation(description="Create a vantage6 task: one run per organization, each with its input.")
    async def create_vantage6_task(self, info: strawberry.Info, collaboration_id: strawberry.ID, image: str,
                                   organizations: list[Vantage6TaskInput], name: str | None = None,
                                   description: str | None = None,
                                   databases: list[str] | None = None) -> Vantage6Task:
        collaboration = parse_int_id(collaboration_id, kind="collaboration", source="vantage6")
        orgs = [{"id": parse_int_id(o.organization_id, kind="organization", source="vantage6"),
                 "input": o.input if o.input is not None else {}} for o in organizations]
        token = _caller(info, "vantage6")
        loaders = _client(info, "vantage6")
        try:
            record = await loaders.client.create_task(collaboration, orgs, image, name=name, description=description,
                                                      databases=databases or ["default"], credential=token)
        finally:
            await loaders.invalidate(("task",), collaboration)
        loaders.task.prime(record.id, record)
        return Vantage6Task.of(record.id, loaders)

    @strawberry.mutation(description="Kill a vantage6 task: its unfinished runs become killed_by_user.")
    async def kill_vantage6_task(self, info: strawberry.Info, id: strawberry.ID) -> Vantage6Task:
        task_id = parse_int_id(id, kind="task", source="vantage6")
        token = _caller(info, "vantage6")
        loaders = _client(info, "vantage6")
        try:
            await loaders.client.kill_task(task_id, token)
        finally:
            await loaders.invalidate(("task", "task-runs", "run"), task_id)
        return Vantage6Task.of(task_id, loaders)

    @strawberry.mutation(description="Delete a vantage6 task and its runs.")
    async def delete_vantage6_task(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        task_id = parse_int_id(id, kind="task", source="vantage6")
        token = _caller(info, "vantage6")
        loaders = _client(info, "vantage6")
        try:
            await loaders.client.delete_task(task_id, token)
        finally:
            await loaders.invalidate(("task", "task-runs", "run"), task_id)
        return True

    @strawberry.mutation(description="Publish a pytupli benchmark, artifact or episode in a group; returns its groups.")
    async def publish(self, info: strawberry.Info, id: strawberry.ID, group: str) -> list[str]:
        return await _pytupli_publish(info, id, group, unpublish=False)

    @strawberry.mutation(description="Take a pytupli benchmark, artifact or episode out of a group; returns its "
                                     "groups.")
    async def unpublish(self, info: strawberry.Info, id: strawberry.ID, group: str) -> list[str]:
        return await _pytupli_publish(info, id, group, unpublish=True)


async def _pytupli_publish(info: strawberry.Info, id_: str, group: str, *, unpublish: bool) -> list[str]:
    gid = parse_global_id(id_, kind=("benchmark", "artifact", "episode"), source="pytupli")
    token = _caller(info, "pytupli")
    loaders = _client(info, "pytupli")
    call = loaders.client.unpublish if unpublish else loaders.client.publish
    try:
        await call(gid.kind, gid.native, group, token)
    finally:
        await loaders.invalidate((gid.kind,), gid.native)
    record = await getattr(loaders, gid.kind).load(gid.native)
    return list(record.published_in)


async def delete_json(info: strawberry.Info, id_: str) -> bool:
    """`delete(id)` for pytupli objects (MLTE and vantage6 have their own named mutations)."""
    gid = parse_global_id(id_)
    if gid.source == "pytupli":
        parse_global_id(id_, kind=("benchmark", "artifact", "episode"), source="pytupli")
        token = _caller(info, "pytupli")
        loaders = _client(info, "pytupli")
        try:
            await loaders.client.delete(gid.kind, gid.native, token, must_exist=True)
        finally:
            await loaders.invalidate((gid.kind,), gid.native)
        return True
    if gid.source == "mlte" and gid.kind == "artifact":
        return await JsonMutation.delete_mlte_artifact(JsonMutation(), info, id_)  # type: ignore[call-arg]
    if gid.source == "vantage6" and gid.kind == "task":
        return await JsonMutation.delete_vantage6_task(JsonMutation(), info, id_)  # type: ignore[call-arg]
    raise BadUserInputError(f"{id_!r} cannot be deleted through the gateway.")
