"""MLTE client: URLs, the OAuth2 password grant, batching, and MLTE's quirks, over one BackendHTTP.

Auth: every method takes ``credential``, the caller's own bearer JWT (with or without a ``Bearer `` prefix).
Given, it is sent as ``Authorization: Bearer <jwt>`` and nothing else is tried. Without it the client uses the
service credential of its settings: a static ``token``, or ``username``/``password`` logged in through
``POST /token`` (form-encoded password grant), cached and renewed before its ``expires_in`` runs out (MLTE has
no refresh tokens, so renewing is logging in again); a cached service token the server refuses is dropped
and the call retried once with a fresh login. With neither, calls go anonymous and MLTE answers 401.

Quirks handled here (backends.md §1): identifiers with ``/`` travel as ``---`` inside path segments; MLTE
rewrites artifact identifiers on write, so writes return what the server stored; listing or searching the
artifacts of a missing model or version is a 500 upstream, so the client asks for the version to turn that
into NOT_FOUND; model-level artifacts (cards, suites) are reachable through any version of their model.

Batching: ``get_models`` fans out single reads; ``get_versions`` reads each model once; ``get_artifacts``
makes one ``search`` per (model, version) with an ``or`` of identifier filters and falls back to single
reads for what the search did not return, so every key gets its own record or error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from adapters._auth import ServiceToken, TokenPair
from adapters.mlte import normalize as nz
from adapters.mlte.errors import BACKEND
from adapters.records import ListPage
from adapters.records.mlte import MLTEArtifactRecord, MLTEModelRecord, MLTEVersionRecord
from gateway.errors import BadUserInputError, GatewayError, NotFoundError, UnauthenticatedError
from gateway.http import BackendHTTP, BackendResponse
from gateway.settings import BackendSettings

__all__ = ["ArtifactKey", "MLTEClient", "path_segment"]

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

ArtifactKey = tuple[str, str | None, str]
"""(model, version, artifact); version None means a model-level artifact reached through any version."""

DEFAULT_LIMIT = 100  # MLTE's own default page size, and how many artifacts its search looks at
_JSON = {"Accept": "application/json"}


def path_segment(identifier: str) -> str:
    """Encode an MLTE identifier for one URL path segment: ``/`` becomes ``---`` (MLTE's own convention,
    ``%2F`` would split the route), everything else is percent-encoded. Raises BadUserInputError for ``""``.
    """
    if not identifier:
        raise BadUserInputError("MLTE identifiers cannot be empty.", backend=BACKEND)
    return quote(identifier.replace("/", "---"), safe="")


def _bearer(credential: str) -> str:
    token = credential.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


class MLTEClient:
    """Typed calls to one MLTE 2.7 backend; the URL of ``http`` is the API root (``http://host:8080/api``)."""

    backend = BACKEND

    def __init__(self, http: BackendHTTP, settings: BackendSettings, *, clock: Callable[[], float] = time.time,
                 token_margin: float = 60.0) -> None:
        self.http = http
        self._clock = clock
        self._static = _bearer(settings.token) if settings.token else None
        self.service_token: ServiceToken | None = None
        if self._static is None and settings.username and settings.password:
            username, password = settings.username, settings.password
            self.service_token = ServiceToken(lambda: self.login(username, password), margin=token_margin,
                                              clock=clock)

    def __repr__(self) -> str:
        service = "token" if self._static else "password" if self.service_token else "none"
        return f"MLTEClient(base_url={self.base_url!r}, service={service})"

    @property
    def base_url(self) -> str:
        """The API root this client talks to (part of every cache key: identifiers are per server)."""
        return self.http.base_url

    # ------------------------------------------------------------------------------------------ auth

    async def login(self, username: str, password: str) -> TokenPair:
        """Run the OAuth2 password grant (``POST /token``, form-encoded) and return the access token.

        Raises UnauthenticatedError (``backend_code="invalid_grant"``) for a wrong username or password.
        """
        form = {"grant_type": "password", "username": username, "password": password}
        response = await self.http.request("POST", "token", endpoint="token", data=form, headers=_JSON,
                                           idempotent=False)
        if response.status != 200:
            raise nz.error_from_response(response.status, response.body, response.headers)
        access, expires_in = nz.token_from_json(response.body)
        expires_at = self._clock() + expires_in if expires_in > 0 else None
        return TokenPair(access=access, expires_at=expires_at)

    async def _headers(self, credential: str | None) -> tuple[dict[str, str], bool]:
        """Return the request headers and whether they carry the cached service token."""
        if credential and credential.strip():
            return {**_JSON, "Authorization": f"Bearer {_bearer(credential)}"}, False
        if self._static:
            return {**_JSON, "Authorization": f"Bearer {self._static}"}, False
        if self.service_token is not None:
            return {**_JSON, "Authorization": f"Bearer {await self.service_token.get()}"}, True
        return dict(_JSON), False

    # ------------------------------------------------------------------------------------------ transport

    async def _send(self, method: str, path: str, *, endpoint: str, credential: str | None,
                    json: Any = None, params: Mapping[str, str] | None = None,
                    idempotent: bool | None = None) -> BackendResponse:
        headers, service = await self._headers(credential)
        response = await self.http.request(method, path, endpoint=endpoint, json=json, params=params,
                                           headers=headers, idempotent=idempotent)
        if response.status == 401 and service and self.service_token is not None:
            # revoked, or the server restarted with a new secret
            self.service_token.invalidate(headers["Authorization"].removeprefix("Bearer "))
            headers, _ = await self._headers(None)
            response = await self.http.request(method, path, endpoint=endpoint, json=json, params=params,
                                               headers=headers, idempotent=idempotent)
        return response

    async def _call(self, method: str, path: str, *, endpoint: str, credential: str | None, json: Any = None,
                    params: Mapping[str, str] | None = None, idempotent: bool | None = None) -> bytes:
        response = await self._send(method, path, endpoint=endpoint, credential=credential, json=json,
                                    params=params, idempotent=idempotent)
        if response.status == 200:
            return response.body
        raise nz.error_from_response(response.status, response.body, response.headers)

    async def _explain_500(self, model_id: str, version_id: str, response: BackendResponse,
                           credential: str | None) -> GatewayError:
        """MLTE answers 500 when listing or searching under a missing model or version: ask which."""
        original = nz.error_from_response(response.status, response.body, response.headers)
        if response.status != 500:
            return original
        try:
            await self.get_version(model_id, version_id, credential)
        except GatewayError as exc:
            return exc
        return original

    @staticmethod
    async def _fan_out(keys: Iterable[K], get: Callable[[K], Awaitable[R]]) -> dict[K, R | GatewayError]:
        unique = list(dict.fromkeys(keys))
        results = await asyncio.gather(*(get(k) for k in unique), return_exceptions=True)
        out: dict[K, R | GatewayError] = {}
        for key, result in zip(unique, results, strict=True):
            if isinstance(result, GatewayError):
                out[key] = result
            elif isinstance(result, BaseException):
                raise result
            else:
                out[key] = result
        return out

    # ------------------------------------------------------------------------------------------ models

    async def healthy(self) -> bool:
        """Return True when ``GET /healthz`` (no auth) answers 200; raise the mapped error otherwise."""
        response = await self.http.request("GET", "healthz", endpoint="healthz", headers=_JSON)
        if response.status != 200:
            raise nz.error_from_response(response.status, response.body, response.headers)
        return True

    async def list_models(self, credential: str | None = None) -> tuple[str, ...]:
        """Return every model identifier (``GET /model``, no pagination upstream), in server order.

        Regular (non-admin) users get ForbiddenError: MLTE lets only admins list models.
        """
        return nz.ids_from_json(await self._call("GET", "model", endpoint="model/list", credential=credential))

    async def get_model(self, model_id: str, credential: str | None = None) -> MLTEModelRecord:
        """Return model ``model_id`` with its version identifiers; NotFoundError, ForbiddenError."""
        body = await self._call("GET", f"model/{path_segment(model_id)}", endpoint="model", credential=credential)
        return nz.model_from_json(body)

    async def get_models(self, ids: Sequence[str],
                         credential: str | None = None) -> dict[str, MLTEModelRecord | GatewayError]:
        """Return ``{id: record | error}``; MLTE has no batch read, so this fans out (concurrency capped)."""
        return await self._fan_out(ids, lambda m: self.get_model(m, credential))

    async def create_model(self, model_id: str, credential: str | None = None) -> MLTEModelRecord:
        """Create a model (``POST /model``); BadUserInputError (409) if it exists. The creator owns it."""
        body = await self._call("POST", "model", endpoint="model/create", credential=credential,
                                json={"identifier": model_id})
        return nz.model_from_json(body)

    async def delete_model(self, model_id: str, credential: str | None = None) -> MLTEModelRecord:
        """Delete a model with its versions and artifacts; returns the deleted model."""
        body = await self._call("DELETE", f"model/{path_segment(model_id)}", endpoint="model/delete",
                                credential=credential)
        return nz.model_from_json(body)

    # ------------------------------------------------------------------------------------------ versions

    async def list_versions(self, model_id: str, credential: str | None = None) -> tuple[MLTEVersionRecord, ...]:
        """Return the versions of ``model_id`` in server order; NotFoundError for an unknown model."""
        body = await self._call("GET", f"model/{path_segment(model_id)}/version", endpoint="version/list",
                                credential=credential)
        return tuple(MLTEVersionRecord(model=model_id, identifier=v) for v in nz.ids_from_json(body))

    async def get_version(self, model_id: str, version_id: str, credential: str | None = None) -> MLTEVersionRecord:
        """Return one version; NotFoundError names the missing model or version."""
        body = await self._call("GET", f"model/{path_segment(model_id)}/version/{path_segment(version_id)}",
                                endpoint="version", credential=credential)
        return nz.version_from_json(body, model_id)

    async def get_versions(self, keys: Sequence[tuple[str, str]], credential: str | None = None,
                           ) -> dict[tuple[str, str], MLTEVersionRecord | GatewayError]:
        """Return ``{(model, version): record | error}`` reading each model once (its versions come with it)."""
        models = await self.get_models([m for m, _ in keys], credential)
        out: dict[tuple[str, str], MLTEVersionRecord | GatewayError] = {}
        for model_id, version_id in dict.fromkeys(keys):
            found = models[model_id]
            if isinstance(found, GatewayError):
                out[(model_id, version_id)] = found
            elif version_id in found.versions:
                out[(model_id, version_id)] = MLTEVersionRecord(model=model_id, identifier=version_id)
            else:
                out[(model_id, version_id)] = NotFoundError(
                    f"Version {version_id} for model {model_id} not found.", backend=BACKEND, backend_code="404")
        return out

    async def create_version(self, model_id: str, version_id: str,
                             credential: str | None = None) -> MLTEVersionRecord:
        """Create a version (``POST /model/{m}/version``); NotFoundError for a missing model, 409 if it exists."""
        body = await self._call("POST", f"model/{path_segment(model_id)}/version", endpoint="version/create",
                                credential=credential, json={"identifier": version_id})
        return nz.version_from_json(body, model_id)

    async def delete_version(self, model_id: str, version_id: str,
                             credential: str | None = None) -> MLTEVersionRecord:
        """Delete a version and its version-level artifacts (model-level ones stay); returns it."""
        body = await self._call("DELETE", f"model/{path_segment(model_id)}/version/{path_segment(version_id)}",
                                endpoint="version/delete", credential=credential)
        return nz.version_from_json(body, model_id)

    # ------------------------------------------------------------------------------------------ artifacts

    @staticmethod
    def _artifacts_path(model_id: str, version_id: str) -> str:
        return f"model/{path_segment(model_id)}/version/{path_segment(version_id)}/artifact"

    async def list_artifacts(self, model_id: str, version_id: str, limit: int = DEFAULT_LIMIT, offset: int = 0,
                             credential: str | None = None) -> ListPage[MLTEArtifactRecord]:
        """Return one page of what MLTE lists for a version, model-level artifacts included (server order:
        model-level first, then version-level, each in write order).

        MLTE gives no total: ``has_more`` is ``len(items) == limit``. BadUserInputError for a negative limit or
        offset (MLTE would slice with them), NotFoundError for a missing model or version.
        """
        if limit < 0 or offset < 0:
            raise BadUserInputError("limit and offset must not be negative.", backend=BACKEND)
        path = self._artifacts_path(model_id, version_id)
        response = await self._send("GET", path, endpoint="artifact/list", credential=credential,
                                    params={"limit": str(limit), "offset": str(offset)})
        if response.status != 200:
            raise await self._explain_500(model_id, version_id, response, credential)
        items = nz.artifact_list_from_json(response.body, model_id, version_id)
        return ListPage(items=items, has_more=limit > 0 and len(items) == limit)

    async def search_artifacts(self, model_id: str, version_id: str, filter: Mapping[str, Any] | None = None,
                               credential: str | None = None) -> tuple[MLTEArtifactRecord, ...]:
        """Return the artifacts of a version matching MLTE's ``filter`` (``{"type": "type", "item_type":
        "evidence"}``, ``identifier``, ``and``/``or``, ``all``, ``none``); None means all.

        Upstream limits: the server searches only the first 100 listed artifacts, and ``tag``/``property``
        filters fail on artifacts (BackendError). BadUserInputError for a malformed filter.
        """
        payload = {"filter": dict(filter) if filter is not None else {"type": "all"}}
        response = await self._send("POST", f"{self._artifacts_path(model_id, version_id)}/search",
                                    endpoint="artifact/search", credential=credential, json=payload,
                                    idempotent=True)
        if response.status != 200:
            raise await self._explain_500(model_id, version_id, response, credential)
        return nz.artifact_list_from_json(response.body, model_id, version_id)

    async def get_artifact(self, model_id: str, version_id: str, artifact_id: str,
                           credential: str | None = None) -> MLTEArtifactRecord:
        """Return one artifact (a model-level one is found through any version of its model)."""
        body = await self._call("GET", f"{self._artifacts_path(model_id, version_id)}/{path_segment(artifact_id)}",
                                endpoint="artifact", credential=credential)
        return nz.artifact_from_json(body, model_id, version_id)

    async def get_model_artifact(self, model_id: str, artifact_id: str,
                                 credential: str | None = None) -> MLTEArtifactRecord:
        """Return a model-level artifact (``mlte:artifact:<m>/<a>``) through the model's first version.

        NotFoundError when the model has no version to reach it through, or the artifact is version-level.
        """
        found = await self.get_artifacts([(model_id, None, artifact_id)], credential)
        result = found[(model_id, None, artifact_id)]
        if isinstance(result, GatewayError):
            raise result
        return result

    async def get_artifacts(self, keys: Sequence[ArtifactKey], credential: str | None = None,
                            ) -> dict[ArtifactKey, MLTEArtifactRecord | GatewayError]:
        """Return ``{(model, version, artifact): record | error}`` for every key.

        One ``search`` per (model, version) with an ``or`` of identifier filters; keys it does not return are
        read one by one so each gets its own error. A key with version None is a model-level artifact: it is
        read through the model's first version and must have ``level == "model"``.
        """
        unique = list(dict.fromkeys(keys))
        out: dict[ArtifactKey, MLTEArtifactRecord | GatewayError] = {}
        via: dict[ArtifactKey, tuple[str, str, str]] = {}
        model_level = [k for k in unique if k[1] is None]
        if model_level:
            models = await self.get_models([k[0] for k in model_level], credential)
            for key in model_level:
                model = models[key[0]]
                if isinstance(model, GatewayError):
                    out[key] = model
                elif not model.versions:
                    out[key] = NotFoundError(f"Model {key[0]} has no version to read artifact {key[2]} through.",
                                             backend=BACKEND)
                else:
                    via[key] = (key[0], model.versions[0], key[2])
        for key in unique:
            if key[1] is not None:
                via[key] = (key[0], key[1], key[2])
        groups: dict[tuple[str, str], list[str]] = {}
        for model_id, version_id, artifact_id in dict.fromkeys(via.values()):
            groups.setdefault((model_id, version_id), []).append(artifact_id)
        found = await asyncio.gather(*(self._read_group(m, v, ids, credential) for (m, v), ids in groups.items()))
        rows: dict[tuple[str, str, str], MLTEArtifactRecord | GatewayError] = {}
        for (model_id, version_id), group in zip(groups, found, strict=True):
            rows.update({(model_id, version_id, a): value for a, value in group.items()})
        for key, target in via.items():
            value = rows[target]
            if key[1] is None and isinstance(value, MLTEArtifactRecord) and not value.is_model_level:
                value = NotFoundError(f"Artifact {key[2]} of model {key[0]} is not a model-level artifact.",
                                      backend=BACKEND)
            out[key] = value
        return {key: out[key] for key in unique}

    async def _read_group(self, model_id: str, version_id: str, ids: list[str],
                          credential: str | None) -> dict[str, MLTEArtifactRecord | GatewayError]:
        found: dict[str, MLTEArtifactRecord | GatewayError] = {}
        if len(ids) > 1:
            wanted = {"type": "or", "filters": [{"type": "identifier", "id": a} for a in ids]}
            try:
                for row in await self.search_artifacts(model_id, version_id, wanted, credential):
                    found.setdefault(row.identifier, row)
            except UnauthenticatedError as exc:  # every read of this group would be refused alike
                return dict.fromkeys(ids, exc)
            except GatewayError:  # forbidden, missing version, a failing search: single reads answer per key
                pass
        missing = [a for a in ids if a not in found]
        singles = await self._fan_out(missing, lambda a: self.get_artifact(model_id, version_id, a, credential))
        return {a: found.get(a) or singles[a] for a in ids}

    async def write_artifact(self, model_id: str, version_id: str, artifact: Mapping[str, Any],
                             credential: str | None = None, *, force: bool = False,
                             parents: bool = False) -> MLTEArtifactRecord:
        """Write ``artifact`` (``{"header": {...}, "body": {...}}``) and return what MLTE stored.

        MLTE rewrites the identifier (``evidence.<test_case_id>``, a ``<type>.`` prefix), sets the level, the
        creator (the caller) and the timestamp. ``force`` overwrites an existing artifact (else 409 ->
        BadUserInputError); ``parents`` creates a missing model and version. Never retried.
        """
        payload = {"artifact": dict(artifact), "force": force, "parents": parents}
        body = await self._call("POST", self._artifacts_path(model_id, version_id), endpoint="artifact/write",
                                credential=credential, json=payload)
        return nz.written_artifact_from_json(body, model_id, version_id)

    async def delete_artifact(self, model_id: str, version_id: str, artifact_id: str,
                              credential: str | None = None) -> MLTEArtifactRecord:
        """Delete an artifact (a model-level one disappears from every version) and return it."""
        body = await self._call("DELETE", f"{self._artifacts_path(model_id, version_id)}/{path_segment(artifact_id)}",
                                endpoint="artifact/delete", credential=credential)
        return nz.artifact_from_json(body, model_id, version_id)
