"""Fault injection for the pytupli emulator: slow, failing and malformed answers on demand.

A fault applies to requests whose path starts with ``prefix`` (``/benchmarks/list``, ``/artifacts/``), ``times``
times (None: until cleared). Kinds:

- ``delay``: answer normally after ``delay_ms``; ``hang``: never answer (until the client gives up);
- ``status``: ``status`` with ``body`` (default: pytupli's JSON ``{"detail": message}``), e.g. the known
  500s ``{"detail": "Failed to list benchmarks: ..."}``;
- ``plain500``: the bare ``text/plain`` 500 "Internal Server Error" of an unhandled exception;
- ``html``: an nginx-style HTML error page (a proxy in front of pytupli) with ``status`` (default 502);
- ``malformed``: the normal body cut in half; ``empty``: 200 with no body; ``not_json``: 200 text;
- ``wrong_types``: the normal JSON with fields of the wrong type (``n_tuples: "many"``, ``id: 12345``...);
- ``missing_fields``: the normal JSON without ``id``, ``name``/``metadata`` and ``benchmark_id``;
- ``no_metadata_header``: a download without its ``x-metadata`` header.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = ["FAULT_KINDS", "Fault", "fault_response"]

FAULT_KINDS = frozenset({"delay", "hang", "status", "plain500", "html", "malformed", "empty", "not_json",
                         "wrong_types", "missing_fields", "no_metadata_header"})
_FIELDS = frozenset({"prefix", "kind", "times", "status", "delay_ms", "message", "body"})
_WRONG: dict[str, Any] = {"id": 12345, "n_tuples": "many", "terminated": "yes", "timeout": [], "published_in": "global",
                          "metadata": ["not", "an", "object"], "created_at": "yesterday-ish", "hash": {"sha": 1},
                          "name": 7, "benchmark_id": 3.5, "access_token": "flat-string", "token": None}
_DROP = frozenset({"id", "name", "metadata", "benchmark_id", "token", "access_token"})
_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@dataclass(slots=True)
class Fault:
    """One injected fault (see the module docstring for the kinds)."""

    prefix: str
    kind: str
    times: int | None = None
    status: int | None = None
    delay_ms: float = 0.0
    message: str | None = None
    body: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the control API's JSON; ValueError for an unknown kind or field."""
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**data)

    def consume(self) -> bool:
        """Count one application; False when the fault is used up."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


def _mutate(value: Any, table: dict[str, Any] | None) -> Any:
    if isinstance(value, list):
        return [_mutate(v, table) for v in value]
    if isinstance(value, dict):
        if table is None:
            return {k: _mutate(v, table) for k, v in value.items() if k not in _DROP}
        return {k: table[k] if k in table else _mutate(v, table) for k, v in value.items()}
    return value


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(value, separators=(",", ":")).encode(), status=status,
                        headers={"Content-Type": "application/json"})


async def fault_response(fault: Fault, normal: web.Response) -> web.Response | None:
    """The response ``fault`` turns ``normal`` into; None means "answer normally" (after a delay)."""
    kind = fault.kind
    if kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    if kind == "hang":
        await asyncio.Event().wait()
    if kind == "status":
        status = fault.status or 500
        if fault.body is not None:
            ctype = "text/html" if fault.body.lstrip().startswith("<") else "application/json"
            return web.Response(text=fault.body, status=status, headers={"Content-Type": ctype})
        return _json({"detail": fault.message or HTTPStatus(status).phrase}, status)
    if kind == "plain500":
        return web.Response(body=b"Internal Server Error", status=500,
                            headers={"Content-Type": "text/plain; charset=utf-8"})
    if kind == "html":
        status = fault.status or 502
        page = fault.body or _PAGE.format(status=status, reason=HTTPStatus(status).phrase)
        return web.Response(text=page, status=status, headers={"Content-Type": "text/html"})
    if kind == "empty":
        return web.Response(body=b"", status=fault.status or 200, headers={"Content-Type": "application/json"})
    if kind == "not_json":
        return web.Response(text=fault.body or "OK", status=fault.status or 200, headers={"Content-Type": "text/plain"})
    if kind == "no_metadata_header":
        headers = {k: v for k, v in normal.headers.items() if k.lower() not in ("x-metadata", "content-length")}
        return web.Response(body=normal.body, status=normal.status, headers=headers)
    raw = normal.body if isinstance(normal.body, bytes) else b""
    meta = normal.headers.get("x-metadata")
    if meta is not None and kind in ("wrong_types", "missing_fields"):  # a download: spoil its metadata header
        headers = {k: v for k, v in normal.headers.items() if k.lower() not in ("x-metadata", "content-length")}
        spoilt = _mutate(json.loads(meta), _WRONG if kind == "wrong_types" else None)
        return web.Response(body=raw, status=normal.status, headers={**headers, "x-metadata": json.dumps(spoilt)})
    if kind == "malformed":
        text = raw or b'[{"id":"0123'
        return web.Response(body=text[: max(1, len(text) // 2)], status=fault.status or 200,
                            headers={"Content-Type": "application/json"})
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = None
    return _json(_mutate(value, _WRONG if kind == "wrong_types" else None), fault.status or normal.status)
