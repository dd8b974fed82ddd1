"""Mutations: tag, untag and delete OpenML entities with the caller's own api key.

A mutation without the caller's credential fails with UNAUTHENTICATED before any backend call (a service
credential serves reads only). Mutations are never retried; a timeout is BACKEND_UNAVAILABLE with
``extensions.outcome: "unknown"`` (the backend may have done it). After a change every cached record of the
entity, and every cached list of its backend, is dropped here and on every replica, so the next read sees it.
"""

from __future__ import annotations

import strawberry

from gateway.errors import UnauthenticatedError
from gateway.ids import parse_global_id, parse_int_id
from schema.context_access import openml
from schema.mutations_json import JsonMutation, delete_json

__all__ = ["Mutation"]

TAGGABLE = ("dataset", "task", "flow", "run", "setup")


def _caller_key(info: strawberry.Info) -> str:
    key = info.context.credentials.openml
    if not key:
        raise UnauthenticatedError(
            "This mutation needs your own OpenML api key in the X-OpenML-Api-Key header.", backend="openml"
        )
    return key


def _target(id_: str) -> tuple[str, int]:
    kind = parse_global_id(id_, kind=TAGGABLE, source="openml").kind
    return kind, parse_int_id(id_, kind=kind)


@strawberry.type
class Mutation(JsonMutation):
    @strawberry.mutation(description="Tag an OpenML dataset, task, flow, run or setup; returns its tags after.")
    async def add_tag(self, info: strawberry.Info, id: strawberry.ID, tag: str) -> list[str]:
        return await _tag(info, id, tag, remove=False)

    @strawberry.mutation(description="Remove a tag (only its tagger or an admin may); returns the tags after.")
    async def remove_tag(self, info: strawberry.Info, id: strawberry.ID, tag: str) -> list[str]:
        return await _tag(info, id, tag, remove=True)

    @strawberry.mutation(description="Delete an OpenML dataset, task, flow, run or setup you own; also pytupli "
                                     "objects, MLTE artifacts and vantage6 tasks.")
    async def delete(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        if parse_global_id(id).source != "openml":
            return await delete_json(info, id)
        kind, native = _target(id)
        key = _caller_key(info)
        loaders = openml(info)
        client = loaders.configured_client()
        try:
            await client.delete(kind, native, key)
        finally:
            await loaders.invalidate(kind, native)  # also after an unknown outcome: never serve a stale record
        return True


async def _tag(info: strawberry.Info, id_: str, tag: str, *, remove: bool) -> list[str]:
    kind, native = _target(id_)
    key = _caller_key(info)
    loaders = openml(info)
    client = loaders.configured_client()
    try:
        result = await client.tag(kind, native, tag, key, remove=remove)
    finally:
        await loaders.invalidate(kind, native)
    return list(result.tags)
