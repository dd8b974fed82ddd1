"""MLTE: models, their versions, and artifacts (cards, evidence, suites, results, reports).

Ids percent-encode ``/`` and ``:`` inside names: ``mlte:model:<m>``, ``mlte:version:<m>/<v>``,
``mlte:artifact:<m>/<v>/<a>`` and, for a model-level artifact (cards and suites), ``mlte:artifact:<m>/<a>`` whatever
version it is reached through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

import strawberry
from strawberry.scalars import JSON

from adapters.records.mlte import MLTEArtifactRecord
from gateway.errors import BadUserInputError
from gateway.ids import encode_part, global_id, parse_global_id
from schema.keyed import MaybeAwaitable, then
from schema.pagination import Connection, decode_cursor, encode_cursor, page_size
from schema.types.base import Artifact, Node, Source

__all__ = ["MLTEArtifact", "Model", "ModelVersion", "artifact_key", "mlte_parts"]


def mlte_parts(value: str, kind: str, sizes: tuple[int, ...]) -> tuple[str, ...]:
    """Decode the ``/``-separated native parts of an MLTE id; BadUserInputError when the count is wrong."""
    native = parse_global_id(value, kind=kind, source="mlte").native
    parts = tuple(unquote(p) for p in native.split("/"))
    if len(parts) not in sizes or not all(parts):
        raise BadUserInputError(f"Invalid id {value!r} for an MLTE {kind}.")
    return parts


def artifact_key(value: str) -> tuple[str, str | None, str]:
    """``(model, version or None for model level, artifact)`` of an ``mlte:artifact:`` id."""
    parts = mlte_parts(value, "artifact", (2, 3))
    return (parts[0], None, parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


@strawberry.federation.type(keys=["id"], description="An MLTE model (negotiated requirements and their evidence).")
class Model(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    name: str
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, name: str, loaders: Any) -> Model:
        return cls(id=strawberry.ID(global_id("mlte", "model", encode_part(name))), source=Source.MLTE,
                   native_id=name, name=name, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> Model:
        return cls.of(mlte_parts(id, "model", (1,))[0], info.context.loaders.mlte)

    @strawberry.field(graphql_type=list["ModelVersion"])
    def versions(self) -> MaybeAwaitable[list[ModelVersion]]:
        return self._l.model.get(self.name, lambda m: [ModelVersion.of(self.name, v, self._l) for v in m.versions])


@strawberry.federation.type(keys=["id"], description="One version of an MLTE model.")
class ModelVersion(Node):
    id: strawberry.ID
    source: Source
    native_id: str
    name: str
    model_name: strawberry.Private[str]
    _l: strawberry.Private[Any]

    @classmethod
    def of(cls, model: str, version: str, loaders: Any) -> ModelVersion:
        native = f"{encode_part(model)}/{encode_part(version)}"
        return cls(id=strawberry.ID(global_id("mlte", "version", native)), source=Source.MLTE,
                   native_id=f"{model}/{version}", name=version, model_name=model, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> ModelVersion:
        model, version = mlte_parts(id, "version", (2,))
        return cls.of(model, version, info.context.loaders.mlte)

    @strawberry.field
    def model(self) -> Model:
        return Model.of(self.model_name, self._l)

    @strawberry.field(description="What MLTE lists for this version, model-level artifacts included, in its order.")
    async def artifacts(self, info: strawberry.Info, first: int | None = 20,
                        after: str | None = None) -> Connection[Artifact]:
        size = page_size(info, first)
        prefix = f"mlte:artifacts:{self.native_id}"
        offset = int(decode_cursor(after, prefix)) if after is not None else 0
        await self._l.version.load((self.model_name, self.name))  # NOT_FOUND for an unknown version
        page = await self._l.pages.load((self.model_name, self.name, size + 1, offset))
        items = list(page.items)[:size]
        nodes = [(encode_cursor(prefix, offset + i + 1), MLTEArtifact.from_record(r, self._l))
                 for i, r in enumerate(items)]
        return Connection.build(nodes, has_next=len(page.items) > size, has_previous=offset > 0, total=None)


@strawberry.federation.type(keys=["id"], description="An MLTE artifact: a card, evidence, a suite, results, a report.")
class MLTEArtifact(Artifact):
    id: strawberry.ID
    source: Source
    native_id: str
    key: strawberry.Private[tuple[str, str | None, str]]
    _l: strawberry.Private[Any]

    @classmethod
    def from_record(cls, record: MLTEArtifactRecord, loaders: Any) -> MLTEArtifact:
        model_level = record.level == "model"
        key = (record.model, None if model_level else record.version, record.identifier)
        loaders.artifact.prime(key, record)
        return cls.of(key, loaders)

    @classmethod
    def of(cls, key: tuple[str, str | None, str], loaders: Any) -> MLTEArtifact:
        model, version, name = key
        parts = [model, name] if version is None else [model, version, name]
        native = "/".join(encode_part(p) for p in parts)
        return cls(id=strawberry.ID(global_id("mlte", "artifact", native)), source=Source.MLTE,
                   native_id="/".join(parts), key=key, _l=loaders)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, info: strawberry.Info) -> MLTEArtifact:
        return cls.of(artifact_key(id), info.context.loaders.mlte)

    def _get(self, fn: Any) -> Any:
        return self._l.artifact.get(self.key, fn)

    @strawberry.field(graphql_type=str | None, description="MLTE's identifier (card.default, evidence.acc, ...).")
    def name(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.identifier)

    @strawberry.field(graphql_type=str | None, description="card, evidence, suite, results or report.")
    def kind(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.type)

    @strawberry.field(graphql_type=datetime | None, description="When MLTE stored it (UTC).")
    def created_at(self) -> MaybeAwaitable[datetime | None]:
        return self._get(lambda a: a.timestamp)

    @strawberry.field(graphql_type=str | None, description="model (cards, suites) or version.")
    def level(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.level)

    @strawberry.field(graphql_type=str | None)
    def creator(self) -> MaybeAwaitable[str | None]:
        return self._get(lambda a: a.creator)

    @strawberry.field(graphql_type=JSON | None, description="MLTE's body, verbatim.")
    def body(self) -> MaybeAwaitable[Any]:
        return self._get(lambda a: dict(a.body))

    @strawberry.field
    def model(self) -> Model:
        return Model.of(self.key[0], self._l)

    @strawberry.field(graphql_type=ModelVersion | None,
                      description="The version a version-level artifact belongs to (null at model level).")
    def version(self) -> MaybeAwaitable[ModelVersion | None]:
        return then(self._get(lambda a: a), lambda a: None if a.level == "model" or self.key[1] is None
                    else ModelVersion.of(self.key[0], self.key[1], self._l))
