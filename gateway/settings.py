"""Settings from an explicit environ mapping and an optional TOML file; ``load_settings`` is pure.

Env vars win over the file. Backend fields read ``GATEWAY_<BACKEND>_<FIELD>`` (``GATEWAY_OPENML_URL``)
and ``[<backend>] <field>`` in the file; top-level fields read ``GATEWAY_<FIELD>`` and top-level keys.
Every field documents itself (``metadata["doc"]``) so the README's settings table is generated.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.http import HTTPPolicy

__all__ = [
    "BACKENDS", "BackendSettings", "Settings", "SettingsError", "iter_setting_docs", "load_settings",
    "settings_markdown",
]

BACKENDS = ("openml", "mlte", "vantage6", "pytupli")


class SettingsError(ValueError):
    """A setting has a value of the wrong form; the message names the variable."""


def _doc(text: str, default: Any, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"doc": text}, repr=not secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendSettings:
    """How to reach one backend; a backend with no ``url`` is absent from the graph."""

    url: str | None = _doc("API root of the backend (OpenML: the v1 XML root, e.g. https://www.openml.org/api/v1/xml)."
                           " Unset: the backend is absent and its fields fail with BACKEND_UNAVAILABLE.", None)
    token: str | None = _doc("Service credential for reads (a static token, or OpenML's api key).", None, secret=True)
    username: str | None = _doc("Service account for reads: the gateway logs in and refreshes the token.", None)
    password: str | None = _doc("Password of the service account.", None, secret=True)
    connect_timeout: float = _doc("Seconds to establish a connection.", 2.0)
    timeout: float = _doc("Seconds for one attempt of one backend call, body included.", 5.0)
    max_concurrency: int = _doc("Backend calls in flight at once from one process.", 16)
    max_response_bytes: int = _doc("Largest response body accepted; larger is BACKEND_ERROR.", 64 * 1024 * 1024)
    retries: int = _doc("Extra attempts for idempotent reads after connection errors, 5xx and 429.", 2)
    batch_size: int = _doc("Ids per batched list call (keeps URLs under the server's length limit).", 100)
    breaker_failures: int = _doc("Consecutive failures (timeouts, refused, 5xx) that open the circuit.", 5)
    breaker_reset: float = _doc("Seconds an open circuit waits before one half-open probe.", 30.0)

    def http_policy(self) -> HTTPPolicy:
        """Return the HTTP limits of this backend."""
        return HTTPPolicy(
            connect_timeout=self.connect_timeout,
            total_timeout=self.timeout,
            max_concurrency=self.max_concurrency,
            max_response_bytes=self.max_response_bytes,
            retries=self.retries,
            breaker_failures=self.breaker_failures,
            breaker_reset=self.breaker_reset,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the gateway process reads at start."""

    openml: BackendSettings = field(default_factory=BackendSettings)
    mlte: BackendSettings = field(default_factory=BackendSettings)
    vantage6: BackendSettings = field(default_factory=BackendSettings)
    pytupli: BackendSettings = field(default_factory=BackendSettings)
    openml_v2_url: str | None = _doc("Root of an OpenML v2 (server-api) server; used for the resources named in "
                                     "openml_v2_resources, v1 for everything else.", None)
    openml_v2_resources: str = _doc("Comma-separated OpenML resources read through v2 when openml_v2_url is set: "
                                    "datasets, tasks, flows.", "datasets,tasks,flows")
    redis_url: str | None = _doc("Redis URL of the shared (L2) cache and cross-replica invalidation; unset: "
                                 "in-process cache only.", None)
    redis_secret: str | None = _doc("Key that signs cache entries in Redis (set the same on every replica; "
                                    "unset: derived from the Redis URL).", None, secret=True)
    cache_enabled: bool = _doc("Cache normalized records in process (L1).", True)
    cache_max_entries: int = _doc("Most records the in-process cache holds.", 50_000)
    cache_ttl: float = _doc("Seconds a mutable record (tags, status, evaluations) stays cached.", 60.0)
    cache_ttl_immutable: float = _doc("Seconds an immutable record (flow body, setup) stays cached.", 3600.0)
    cache_ttl_not_found: float = _doc("Seconds a NOT_FOUND answer stays cached.", 10.0)
    response_cache: bool = _doc("Serve repeated identical successful queries from memory (per credential scope, "
                                "for cache_ttl seconds, emptied by any mutation).", False)
    response_cache_entries: int = _doc("Most responses the whole-response cache holds.", 2048)
    dataloaders: bool = _doc("Batch backend calls per request; off only to measure what batching buys.", True)
    max_first: int = _doc("Largest `first` a connection accepts (larger is BAD_USER_INPUT).", 500)
    max_depth: int = _doc("Deepest field nesting a query may have (fragments expanded).", 15)
    max_aliases: int = _doc("Most aliases a query may use, counting each spread of a fragment.", 100)
    max_tokens: int = _doc("Most lexical tokens a query document may have.", 5000)
    max_cost: float = _doc("Most items a query may fetch: each field 1, lists multiplied by their `first`.", 50_000.0)
    list_scan_max: int = _doc("Most rows read to order one OpenML list newest first.", 100_000)
    request_deadline: float = _doc("Seconds one GraphQL request may take in all (then 504 with a GraphQL error).",
                                   15.0)
    introspection: bool = _doc("Allow schema introspection.", True)
    otel_exporter: str = _doc("Where OpenTelemetry spans go: none, console or otlp.", "none")
    otel_endpoint: str | None = _doc("OTLP/HTTP traces endpoint (default: the OTEL_EXPORTER_OTLP_* env vars).", None)
    log_format: str = _doc("Log lines as json (with the request id) or text.", "json")
    log_level: str = _doc("Lowest level logged: debug, info, warning, error.", "info")
    graphiql: bool = _doc("Serve GraphiQL to browsers on GET /graphql.", True)
    max_body_bytes: int = _doc("Largest GraphQL request body (and GET query string) accepted; larger is 413 "
                               "(checked on Content-Length and while the body streams in).", 1024 * 1024)
    max_nesting: int = _doc("Deepest bracket nesting accepted in a request's JSON (variables, extensions) and in "
                            "its GraphQL document, checked before parsing; deeper is a request error.", 64)
    apq_enabled: bool = _doc("Accept Apollo automatic persisted queries (off: PERSISTED_QUERY_NOT_SUPPORTED).", True)
    apq_max_entries: int = _doc("Most persisted documents the per-process APQ store holds (LRU).", 10_000)
    apq_max_bytes: int = _doc("Most bytes of document text the per-process APQ store holds (LRU).", 32 * 1024 * 1024)
    apq_allowlist: str | None = _doc("Allow-list mode: a JSON file of {sha256: query} or a directory of .graphql "
                                     "files; only those documents run (by hash or by text), nothing is stored.",
                                     None)
    get_cache_control: str | None = _doc("Cache-Control for successful GET queries without credential headers "
                                         "(e.g. `public, max-age=60`); credentialed ones get `private`. Unset: "
                                         "no caching headers.", None)

    def backend(self, name: str) -> BackendSettings:
        """Return the settings of backend ``name``."""
        value = getattr(self, name)
        assert isinstance(value, BackendSettings)
        return value


def _convert(raw: Any, default: Any, name: str) -> Any:
    kind = type(default) if default is not None else str
    if isinstance(raw, str):
        raw = raw.strip()
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            low = str(raw).lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        out = str(raw)
        return out or None
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: {raw!r} is not a valid {kind.__name__}") from None


def _section(cls: type[Any], environ: Mapping[str, str], file: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if "doc" not in f.metadata:
            continue
        env_name = f"{prefix}{f.name.upper()}"
        if env_name in environ:
            values[f.name] = _convert(environ[env_name], f.default, env_name)
        elif f.name in file:
            values[f.name] = _convert(file[f.name], f.default, f"{f.name} in the settings file")
    return values


def load_settings(environ: Mapping[str, str], path: Path | None = None) -> Settings:
    """Build Settings from ``environ`` and the TOML file at ``path`` (or ``GATEWAY_CONFIG``).

    Raises SettingsError for a value of the wrong form or an unreadable file.
    """
    if path is None and environ.get("GATEWAY_CONFIG"):
        path = Path(environ["GATEWAY_CONFIG"])
    file: dict[str, Any] = {}
    if path is not None:
        try:
            file = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    top = _section(Settings, environ, file, "GATEWAY_")
    for name in BACKENDS:
        section = file.get(name, {})
        if not isinstance(section, dict):
            raise SettingsError(f"[{name}] in the settings file must be a table")
        top[name] = BackendSettings(**_section(BackendSettings, environ, section, f"GATEWAY_{name.upper()}_"))
    return Settings(**top)


def iter_setting_docs() -> Iterator[tuple[str, str, str]]:
    """Yield ``(env var, default, meaning)`` for every setting, for the README table."""
    for f in dataclasses.fields(Settings):
        if "doc" in f.metadata:
            yield f"GATEWAY_{f.name.upper()}", repr(f.default), f.metadata["doc"]
    for name in BACKENDS:
        for f in dataclasses.fields(BackendSettings):
            yield f"GATEWAY_{name.upper()}_{f.name.upper()}", repr(f.default), f.metadata["doc"]


def settings_markdown() -> str:
    """Return the README's settings table (``gateway settings`` prints it; a test keeps the README current)."""
    rows = ["| Env var | Default | Meaning |", "| --- | --- | --- |"]
    for name, default, meaning in iter_setting_docs():
        rows.append(f"| `{name}` | `{default}` | {meaning} |")
    return "\n".join(rows) + "\n"
