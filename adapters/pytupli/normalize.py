"""Pure normalizers: pytupli JSON bodies -> frozen records (no I/O).

Every ``*_from_json`` function takes a response body as bytes (``artifact_from_header`` takes the
``x-metadata`` header value), returns typed records following design.md's rules (timestamps parsed without
inventing a zone, ``""`` -> None, multi-valued fields as tuples, unknown fields in ``raw_extra``) and raises
BackendError for a body that is not JSON or not of the documented shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from adapters._auth import TokenPair, jwt_expiry
from adapters._coerce import opt_datetime, opt_str
from adapters.pytupli.errors import BACKEND
from adapters.records.pytupli import BenchmarkRecord, EpisodeRecord, EpisodeTupleRecord, PytupliArtifactRecord
from gateway.errors import BackendError, GatewayError

__all__ = [
    "access_token_from_json",
    "artifact_from_header",
    "artifact_from_json",
    "artifact_list_from_json",
    "benchmark_from_json",
    "benchmark_list_from_json",
    "episode_from_json",
    "episode_list_from_json",
    "null_from_json",
    "parse_json",
    "tokens_from_json",
]

P = ParamSpec("P")
R = TypeVar("R")

_DB_ITEM = frozenset({"id", "created_by", "published_in", "created_at"})
_BENCHMARK = _DB_ITEM | {"hash", "metadata", "serialized"}
_BENCHMARK_META = frozenset({"name", "description", "difficulty", "version", "extra"})
_EPISODE = _DB_ITEM | {"benchmark_id", "metadata", "n_tuples", "terminated", "timeout", "tuples"}
_ARTIFACT = _DB_ITEM | {"name", "description", "benchmark_id", "extra", "hash", "encoding"}


def _guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (a missing id, a list where an object belongs) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GatewayError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = func.__name__.removesuffix("_from_json").removesuffix("_from_header").replace("_", " ")
            raise BackendError(f"The pytupli backend returned a malformed {kind} ({exc}).", backend=BACKEND) from exc

    return wrapper


def parse_json(body: bytes) -> Any:
    """Decode a JSON body; BackendError for HTML pages, empty bodies and invalid JSON."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        raise BackendError("The pytupli backend returned an empty body.", backend=BACKEND)
    if text.startswith("<"):
        raise BackendError("The pytupli backend returned an HTML page instead of JSON.", backend=BACKEND)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BackendError(f"The pytupli backend returned invalid JSON ({exc.args[0]}).", backend=BACKEND) from exc


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} is {type(value).__name__}, not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is {type(value).__name__}, not a list")
    return value


def _req_str(node: Mapping[str, Any], key: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing {key}")
    return value


def _opt_text(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    if value is not None and not isinstance(value, str | int | float):
        raise TypeError(f"{key} is {type(value).__name__}, not a string")
    return opt_str(value)


def _bool(node: Mapping[str, Any], key: str) -> bool:
    value = node.get(key)
    if not isinstance(value, bool):
        raise TypeError(f"{key} is {value!r}, not a boolean")
    return value


def _groups(node: Mapping[str, Any]) -> tuple[str, ...]:
    value = node.get("published_in")
    if value is None:
        return ()
    return tuple(str(g) for g in _list(value, "published_in") if g is not None)


def _map(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = node.get(key)
    return dict(_obj(value, key)) if value is not None else {}


def _rest(node: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in known}


def _benchmark(node: Any) -> BenchmarkRecord:
    node = _obj(node, "a benchmark")
    meta = _obj(node.get("metadata"), "benchmark metadata")
    serialized = node.get("serialized")
    if serialized is not None and not isinstance(serialized, str):
        raise TypeError("serialized is not a string")
    raw_extra = _rest(node, _BENCHMARK)
    meta_rest = _rest(meta, _BENCHMARK_META)
    if meta_rest:
        raw_extra["metadata"] = meta_rest
    return BenchmarkRecord(
        id=_req_str(node, "id"), hash=_req_str(node, "hash"), name=_req_str(meta, "name"),
        description=_opt_text(meta, "description"), difficulty=_opt_text(meta, "difficulty"),
        version=_opt_text(meta, "version"), created_by=_opt_text(node, "created_by"),
        created_at=opt_datetime(node.get("created_at")), published_in=_groups(node), extra=_map(meta, "extra"),
        serialized=serialized, raw_extra=raw_extra,
    )


def _tuple(node: Any) -> EpisodeTupleRecord:
    node = _obj(node, "a tuple")
    for key in ("state", "action", "reward"):
        if key not in node:
            raise KeyError(f"tuple without {key}")
    return EpisodeTupleRecord(
        state=node["state"], action=node["action"], reward=node["reward"], info=_map(node, "info"),
        terminal=bool(node.get("terminal", False)), timeout=bool(node.get("timeout", False)),
    )


def _episode(node: Any) -> EpisodeRecord:
    node = _obj(node, "an episode")
    n_tuples = node.get("n_tuples")
    if isinstance(n_tuples, bool) or not isinstance(n_tuples, int):
        raise TypeError(f"n_tuples is {n_tuples!r}, not an integer")
    raw_tuples = node.get("tuples")
    return EpisodeRecord(
        id=_req_str(node, "id"), benchmark_id=_req_str(node, "benchmark_id"), n_tuples=n_tuples,
        terminated=_bool(node, "terminated"), timeout=_bool(node, "timeout"), metadata=_map(node, "metadata"),
        created_by=_opt_text(node, "created_by"), created_at=opt_datetime(node.get("created_at")),
        published_in=_groups(node),
        tuples=None if raw_tuples is None else tuple(_tuple(t) for t in _list(raw_tuples, "tuples")),
        raw_extra=_rest(node, _EPISODE),
    )


def _artifact(node: Any) -> PytupliArtifactRecord:
    node = _obj(node, "an artifact")
    return PytupliArtifactRecord(
        id=_req_str(node, "id"), name=_req_str(node, "name"), description=_opt_text(node, "description"),
        benchmark_id=_opt_text(node, "benchmark_id"), hash=_opt_text(node, "hash"),
        encoding=_opt_text(node, "encoding"), created_by=_opt_text(node, "created_by"),
        created_at=opt_datetime(node.get("created_at")), published_in=_groups(node), extra=_map(node, "extra"),
        raw_extra=_rest(node, _ARTIFACT),
    )


@_guard
def benchmark_from_json(body: bytes) -> BenchmarkRecord:
    """``BenchmarkHeader`` or ``Benchmark`` (``/benchmarks/create``, ``/benchmarks/load``) -> BenchmarkRecord."""
    return _benchmark(parse_json(body))


@_guard
def benchmark_list_from_json(body: bytes) -> tuple[BenchmarkRecord, ...]:
    """``[BenchmarkHeader]`` (``/benchmarks/list``) -> records in the backend's order."""
    return tuple(_benchmark(item) for item in _list(parse_json(body), "the benchmark list"))


@_guard
def episode_from_json(body: bytes) -> EpisodeRecord:
    """``EpisodeHeader`` (``/episodes/record``) -> EpisodeRecord."""
    return _episode(parse_json(body))


@_guard
def episode_list_from_json(body: bytes) -> tuple[EpisodeRecord, ...]:
    """``[EpisodeHeader]`` or ``[EpisodeItem]`` (``/episodes/list``) -> records (with tuples when sent)."""
    return tuple(_episode(item) for item in _list(parse_json(body), "the episode list"))


@_guard
def artifact_from_json(body: bytes) -> PytupliArtifactRecord:
    """``ArtifactMetadataItem`` (``/artifacts/upload``) -> PytupliArtifactRecord."""
    return _artifact(parse_json(body))


@_guard
def artifact_list_from_json(body: bytes) -> tuple[PytupliArtifactRecord, ...]:
    """``[ArtifactMetadataItem]`` (``/artifacts/list``) -> records in the backend's order."""
    return tuple(_artifact(item) for item in _list(parse_json(body), "the artifact list"))


@_guard
def artifact_from_header(value: str | None) -> PytupliArtifactRecord:
    """The ``x-metadata`` header of ``/artifacts/download`` (an ``ArtifactMetadataItem`` as JSON) -> record."""
    if value is None:
        raise ValueError("no x-metadata header")
    return _artifact(parse_json(value.encode("utf-8")))


@_guard
def tokens_from_json(body: bytes) -> TokenPair:
    """``{"access_token": {"token", "token_type"}, "refresh_token": {...}}`` (nested objects) -> TokenPair."""
    node = _obj(parse_json(body), "the token answer")
    access = _req_str(_obj(node.get("access_token"), "access_token"), "token")
    refresh = _req_str(_obj(node.get("refresh_token"), "refresh_token"), "token")
    return TokenPair(access=access, refresh=refresh, expires_at=jwt_expiry(access))


@_guard
def access_token_from_json(body: bytes) -> str:
    """``{"token", "token_type"}`` (``/access/users/refresh-token``) -> the new access token."""
    return _req_str(_obj(parse_json(body), "the refresh answer"), "token")


@_guard
def null_from_json(body: bytes) -> None:
    """Publish, unpublish and delete answer 200 ``null``; anything else is a malformed answer."""
    value = parse_json(body)
    if value is not None:
        raise ValueError(f"expected null, got {type(value).__name__}")
