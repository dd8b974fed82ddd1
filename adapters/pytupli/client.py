"""pytupli client: the REST API of a pytupli 1.2 server (benchmarks, episodes, artifacts) behind typed calls.

The base URL is the server root (``http://host:8080``, no ``/api``). pytupli has **no pagination**: every list
returns all matching items the caller may read, in storage order; the gateway paginates on its side.

Credentials: every read and write takes ``credential`` = the caller's own pytupli access token (a JWT; a
leading ``Bearer`` is accepted). Given, it wins. None: the service credential of ``BackendSettings`` (a static
``token``, or ``username``/``password`` logged in through a cached ``ServiceToken`` that is refreshed with the
refresh token before expiry and re-obtained once when the backend refuses it), else anonymous (pytupli's open
access mode serves what is published in ``global``). Schema code must still demand the caller's own credential
for mutations (design.md); this client does not second-guess it.

Batching: ``get_benchmarks``, ``get_episodes`` and ``get_artifacts`` send ONE ``.../list`` call per
``batch_size`` ids with the BaseFilter ``{"type": "IN", "key": "id", "value": [...]}`` (checked against the real
server). Ids the list leaves out are unknown or not readable: benchmarks fall back to single
``/benchmarks/load`` calls (which tell 404 from 403); episodes and artifacts have no cheap single getter, so
they become NotFoundError. Batch methods return ``{id: record | GatewayError}``; one bad id never fails its
neighbours.

Errors (see ``errors.py``): 401 UNAUTHENTICATED, 403 FORBIDDEN for the caller's own token and UNAUTHENTICATED
otherwise, 404 NOT_FOUND, 409/422 BAD_USER_INPUT, 5xx and malformed bodies BACKEND_ERROR, network failures
BACKEND_UNAVAILABLE; every error has ``backend="pytupli"`` and keeps the backend's message. Credentials never
appear in messages or reprs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any, Literal, TypeVar

import aiohttp

from adapters._auth import ServiceToken, TokenPair, jwt_expiry
from adapters.pytupli import normalize as nz
from adapters.pytupli.errors import BACKEND, error_for_status
from adapters.pytupli.filters import check_filter, in_
from adapters.records.pytupli import BenchmarkRecord, EpisodeRecord, EpisodeTupleRecord, PytupliArtifactRecord
from gateway.errors import BadUserInputError, GatewayError, NotFoundError, UnauthenticatedError
from gateway.http import BackendHTTP, BackendResponse
from gateway.settings import BackendSettings

__all__ = ["KINDS", "Kind", "PytupliClient"]

Kind = Literal["benchmark", "episode", "artifact"]
KINDS: tuple[Kind, ...] = ("benchmark", "episode", "artifact")
R = TypeVar("R")
Batch = dict[str, R | GatewayError]
Who = Literal["caller", "service", "anonymous"]


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(i) for i in ids))


def _bearer(credential: str) -> str:
    token = credential.strip()
    return token[7:].strip() if token[:7].lower() == "bearer " else token


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise BadUserInputError(f"Unknown pytupli object kind {kind!r}; expected one of {KINDS}.", backend=BACKEND)
    return kind  # type: ignore[return-value]


class PytupliClient:
    """Typed calls to one pytupli server; create one per app (it caches the service token)."""

    backend = BACKEND

    def __init__(self, http: BackendHTTP, settings: BackendSettings, *, token_margin: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.http = http
        self.batch_size = max(1, settings.batch_size)
        self._static_token = settings.token or None
        self.service_token: ServiceToken | None = None
        if self._static_token is None and settings.username and settings.password:
            username, password = settings.username, settings.password
            self.service_token = ServiceToken(lambda: self._service_login(username, password), self.refresh,
                                              margin=token_margin, clock=clock)

    def __repr__(self) -> str:
        service = "token" if self._static_token else "account" if self.service_token else "none"
        return f"PytupliClient(base_url={self.base_url!r}, service={service})"

    @property
    def base_url(self) -> str:
        """The server root this client talks to (part of every cache key: ids are per server)."""
        return self.http.base_url

    # ------------------------------------------------------------------------------------------ transport

    async def _auth(self, credential: str | None) -> tuple[dict[str, str], Who]:
        if credential is not None and credential.strip():
            return {"Authorization": f"Bearer {_bearer(credential)}"}, "caller"
        if self._static_token:
            return {"Authorization": f"Bearer {self._static_token}"}, "service"
        if self.service_token is not None:
            return {"Authorization": f"Bearer {await self.service_token.get()}"}, "service"
        return {}, "anonymous"

    async def _send(self, method: str, path: str, *, endpoint: str, credential: str | None,
                    params: Mapping[str, str] | None = None, json_body: Any = None,
                    form: Callable[[], aiohttp.FormData] | None = None, idempotent: bool | None = None,
                    anonymous: bool = False, close: bool = False) -> BackendResponse:
        """Send one call with the right credential (none when ``anonymous``: logins); return a 200 response or
        raise the mapped error."""
        for attempt in range(2):
            headers, who = ({}, "anonymous") if anonymous else await self._auth(credential)
            if close:
                headers = {**headers, "Connection": "close"}
            response = await self.http.request(
                method, path, endpoint=endpoint, params=params, json=json_body,
                data=form() if form is not None else None, headers=headers, idempotent=idempotent,
            )
            if response.status == 401 and who == "service" and self.service_token is not None and attempt == 0:
                # revoked, or the server restarted with a new secret
                self.service_token.invalidate(headers["Authorization"].removeprefix("Bearer "))
                continue
            if response.status != 200:
                raise error_for_status(response.status, response.body, caller_credential=who == "caller")
            return response
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _list(self, path: str, endpoint: str, body: Mapping[str, Any], credential: str | None) -> bytes:
        response = await self._send("POST", path, endpoint=endpoint, credential=credential, json_body=dict(body),
                                    idempotent=True)  # a read, despite POST
        return response.body

    async def _batched(self, ids: Sequence[str], fetch: Callable[[list[str]], Awaitable[Sequence[R]]],
                       key: Callable[[R], str]) -> tuple[dict[str, R], dict[str, GatewayError]]:
        chunks = [list(ids[i : i + self.batch_size]) for i in range(0, len(ids), self.batch_size)]
        results = await asyncio.gather(*(fetch(chunk) for chunk in chunks), return_exceptions=True)
        found: dict[str, R] = {}
        failed: dict[str, GatewayError] = {}
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, GatewayError):
                failed.update(dict.fromkeys(chunk, result))
            elif isinstance(result, BaseException):
                raise result
            else:
                wanted = set(chunk)
                found.update({k: row for row in result if (k := key(row)) in wanted})
        return found, failed

    # ------------------------------------------------------------------------------------------ auth

    async def login(self, username: str, password: str) -> TokenPair:
        """``POST /access/users/token``: an access token (30 min) and a refresh token; UnauthenticatedError
        ("Incorrect username or password") when refused."""
        response = await self._send("POST", "access/users/token", endpoint="users/token", credential=None,
                                    json_body={"username": username, "password": password}, idempotent=True,
                                    anonymous=True)  # no side effect: safe to retry on a dropped connection
        return nz.tokens_from_json(response.body)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """``POST /access/users/refresh-token`` with the refresh token as Bearer: a new access token (the
        refresh token is kept). UnauthenticatedError for an invalid or expired refresh token."""
        response = await self._send("POST", "access/users/refresh-token", endpoint="users/refresh-token",
                                    credential=refresh_token, idempotent=True)
        access = nz.access_token_from_json(response.body)
        return TokenPair(access=access, refresh=refresh_token, expires_at=jwt_expiry(access))

    async def signup(self, username: str, password: str) -> str:
        """``POST /access/users/create`` (open signup mode): create a user; return its name.
        BadUserInputError ("User already exists") for a taken name."""
        response = await self._send("POST", "access/users/create", endpoint="users/create", credential=None,
                                    json_body={"username": username, "password": password}, idempotent=False,
                                    anonymous=True)
        node = nz.parse_json(response.body)
        return str(node.get("username", username)) if isinstance(node, dict) else username

    async def _service_login(self, username: str, password: str) -> TokenPair:
        try:
            return await self.login(username, password)
        except UnauthenticatedError as exc:
            raise UnauthenticatedError(f"pytupli refused the gateway's service account: {exc.message}",
                                       backend=BACKEND, backend_code=exc.backend_code) from exc

    # ------------------------------------------------------------------------------------------ benchmarks

    async def list_benchmarks(self, filter: Mapping[str, Any] | None, credential: str | None,
                              ) -> tuple[BenchmarkRecord, ...]:
        """``POST /benchmarks/list``: every benchmark matching ``filter`` (keys like ``metadata.name``) that the
        caller may read, in storage order. BadUserInputError for an invalid filter."""
        body = await self._list("benchmarks/list", "benchmarks/list", check_filter(filter), credential)
        return nz.benchmark_list_from_json(body)

    async def get_benchmark(self, benchmark_id: str, credential: str | None, *,
                            include_serialized: bool = False) -> BenchmarkRecord:
        """``GET /benchmarks/load``: one benchmark; ``serialized`` only with ``include_serialized``.
        NotFoundError if unknown, FORBIDDEN/UNAUTHENTICATED if not readable."""
        response = await self._send("GET", "benchmarks/load", endpoint="benchmarks/load", credential=credential,
                                    params={"benchmark_id": benchmark_id})
        record = nz.benchmark_from_json(response.body)
        if not include_serialized and record.serialized is not None:
            record = replace(record, serialized=None)
        return record

    async def get_benchmarks(self, ids: Iterable[str], credential: str | None) -> Batch[BenchmarkRecord]:
        """Benchmarks by id: one list call per ``batch_size`` ids; ids it omits are loaded one by one."""
        unique = _unique(ids)
        if not unique:
            return {}

        async def fetch(chunk: list[str]) -> Sequence[BenchmarkRecord]:
            return await self.list_benchmarks(in_("id", chunk), credential)

        found, failed = await self._batched(unique, fetch, lambda r: r.id)
        out: Batch[BenchmarkRecord] = {**found, **failed}
        missing = [i for i in unique if i not in out]
        singles = await asyncio.gather(*(self.get_benchmark(i, credential) for i in missing), return_exceptions=True)
        for key, result in zip(missing, singles, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, GatewayError):
                raise result
            out[key] = result
        return {i: out[i] for i in unique}

    async def create_benchmark(self, name: str, serialized: str, credential: str | None, *,
                               hash: str | None = None, description: str = "", difficulty: str | None = None,
                               version: str | None = None, extra: Mapping[str, Any] | None = None,
                               ) -> BenchmarkRecord:
        """``POST /benchmarks/create``; ``hash`` defaults to sha256(serialized). BadUserInputError (409
        "Benchmark already exists") when the caller already has one with that hash (or it is in ``global``)."""
        payload = {
            "hash": hash or hashlib.sha256(serialized.encode("utf-8")).hexdigest(),
            "serialized": serialized,
            "metadata": {"name": name, "description": description, "difficulty": difficulty, "version": version,
                         "extra": dict(extra or {})},
        }
        response = await self._send("POST", "benchmarks/create", endpoint="benchmarks/create",
                                    credential=credential, json_body=payload, idempotent=False)
        return nz.benchmark_from_json(response.body)

    # ------------------------------------------------------------------------------------------ episodes

    async def list_episodes(self, filter: Mapping[str, Any] | None, credential: str | None,
                            include_tuples: bool = False) -> tuple[EpisodeRecord, ...]:
        """``POST /episodes/list``: matching readable episodes (keys like ``benchmark_id``, ``n_tuples``,
        ``metadata.policy``); with ``include_tuples`` each record carries its tuples."""
        body = {**check_filter(filter), "include_tuples": bool(include_tuples)}
        return nz.episode_list_from_json(await self._list("episodes/list", "episodes/list", body, credential))

    async def get_episodes(self, ids: Iterable[str], credential: str | None,
                           include_tuples: bool = False) -> Batch[EpisodeRecord]:
        """Episodes by id, one list call per ``batch_size`` ids; an omitted id (unknown or not readable: pytupli
        cannot tell) is NotFoundError."""
        unique = _unique(ids)
        if not unique:
            return {}

        async def fetch(chunk: list[str]) -> Sequence[EpisodeRecord]:
            return await self.list_episodes(in_("id", chunk), credential, include_tuples)

        found, failed = await self._batched(unique, fetch, lambda r: r.id)
        return {i: found.get(i) or failed.get(i) or _missing("Episode", i) for i in unique}

    async def record_episode(self, benchmark_id: str, tuples: Sequence[Mapping[str, Any] | EpisodeTupleRecord],
                             credential: str | None, *, metadata: Mapping[str, Any] | None = None,
                             ) -> EpisodeRecord:
        """``POST /episodes/record``: store an episode (at least one tuple: pytupli 500s on none) of a
        benchmark; NotFoundError ("Benchmark id doesn't exist") for an unknown benchmark."""
        if not tuples:
            raise BadUserInputError("A pytupli episode needs at least one tuple.", backend=BACKEND)
        rows = [asdict(t) if isinstance(t, EpisodeTupleRecord) else dict(t) for t in tuples]
        payload = {"benchmark_id": benchmark_id, "metadata": dict(metadata or {}), "tuples": rows}
        response = await self._send("POST", "episodes/record", endpoint="episodes/record", credential=credential,
                                    json_body=payload, idempotent=False)
        return nz.episode_from_json(response.body)

    # ------------------------------------------------------------------------------------------ artifacts

    async def list_artifacts(self, filter: Mapping[str, Any] | None, credential: str | None,
                             ) -> tuple[PytupliArtifactRecord, ...]:
        """``POST /artifacts/list``: matching readable artifacts; keys are metadata fields WITHOUT the
        ``metadata.`` prefix (``name``, ``benchmark_id``, ``id``): the server adds it."""
        body = await self._list("artifacts/list", "artifacts/list", check_filter(filter), credential)
        return nz.artifact_list_from_json(body)

    async def get_artifacts(self, ids: Iterable[str], credential: str | None) -> Batch[PytupliArtifactRecord]:
        """Artifact metadata by id, one list call per ``batch_size`` ids; an omitted id is NotFoundError."""
        unique = _unique(ids)
        if not unique:
            return {}

        async def fetch(chunk: list[str]) -> Sequence[PytupliArtifactRecord]:
            return await self.list_artifacts(in_("id", chunk), credential)

        found, failed = await self._batched(unique, fetch, lambda r: r.id)
        return {i: found.get(i) or failed.get(i) or _missing("Artifact", i) for i in unique}

    async def download_artifact(self, artifact_id: str, credential: str | None,
                                ) -> tuple[bytes, PytupliArtifactRecord]:
        """``GET /artifacts/download``: the raw bytes and the metadata from the ``x-metadata`` header.
        NotFoundError ("Artifact does not exist"); BackendError past the HTTP size cap."""
        # pytupli's download hands Starlette a lambda as background task, whose failure (after the body is sent)
        # makes uvicorn drop the connection: never return that connection to the pool.
        response = await self._send("GET", "artifacts/download", endpoint="artifacts/download",
                                    credential=credential, params={"artifact_id": artifact_id}, close=True)
        return response.body, nz.artifact_from_header(response.headers.get("x-metadata"))

    async def upload_artifact(self, data: bytes, name: str, credential: str | None, *, description: str = "",
                              benchmark_id: str | None = None, extra: Mapping[str, Any] | None = None,
                              filename: str | None = None, content_type: str = "application/octet-stream",
                              ) -> PytupliArtifactRecord:
        """``POST /artifacts/upload`` (multipart: ``data`` file + ``metadata`` as a JSON string).

        pytupli deduplicates by sha256(content + username): uploading the same bytes again returns the EXISTING
        artifact's metadata (its old name included), not a new one.
        """
        metadata = json.dumps({"name": name, "description": description, "benchmark_id": benchmark_id,
                               "extra": dict(extra or {})})

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("data", data, filename=filename or name, content_type=content_type)
            fields.add_field("metadata", metadata)
            return fields

        response = await self._send("POST", "artifacts/upload", endpoint="artifacts/upload", credential=credential,
                                    form=form, idempotent=False)
        return nz.artifact_from_json(response.body)

    # ------------------------------------------------------------------------------------------ mutations

    async def publish(self, kind: Kind, item_id: str, group: str, credential: str | None) -> None:
        """``PUT /<kind>s/publish``: make an object readable by ``group`` (``global``: everyone). Owner only:
        FORBIDDEN otherwise; NotFoundError for an unknown id; FORBIDDEN without create rights in ``group``."""
        k = _kind(kind)
        response = await self._send("PUT", f"{k}s/publish", endpoint=f"{k}s/publish", credential=credential,
                                    params={f"{k}_id": item_id, "publish_in": group}, idempotent=False)
        nz.null_from_json(response.body)

    async def unpublish(self, kind: Kind, item_id: str, group: str, credential: str | None) -> None:
        """``PUT /<kind>s/unpublish``: withdraw an object from ``group``; needs delete rights in ``group``
        (note: not even the owner has them in their own user group). NotFoundError for an unknown id."""
        k = _kind(kind)
        response = await self._send("PUT", f"{k}s/unpublish", endpoint=f"{k}s/unpublish", credential=credential,
                                    params={f"{k}_id": item_id, "unpublish_from": group}, idempotent=False)
        nz.null_from_json(response.body)

    async def delete(self, kind: Kind, item_id: str, credential: str | None, *, must_exist: bool = False) -> None:
        """``DELETE /<kind>s/delete``. pytupli answers 200 ``null`` for an unknown id (never 404); with
        ``must_exist`` the object is looked up first and an unknown (or unreadable) id is NotFoundError."""
        k = _kind(kind)
        if must_exist:
            await self._require(k, item_id, credential)
        response = await self._send("DELETE", f"{k}s/delete", endpoint=f"{k}s/delete", credential=credential,
                                    params={f"{k}_id": item_id}, idempotent=False)
        nz.null_from_json(response.body)

    async def _require(self, kind: Kind, item_id: str, credential: str | None) -> None:
        if kind == "benchmark":
            await self.get_benchmark(item_id, credential)
            return
        getter = self.get_episodes if kind == "episode" else self.get_artifacts
        result = (await getter([item_id], credential))[item_id]
        if isinstance(result, GatewayError):
            raise result


def _missing(what: str, item_id: str) -> NotFoundError:
    return NotFoundError(f"{what} {item_id} does not exist or is not readable by this caller.", backend=BACKEND,
                         backend_code="404")
