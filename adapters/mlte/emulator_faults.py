"""Fault injection for the MLTE emulator: slow, hanging, failing, malformed and hostile answers on demand.

Kinds: ``delay`` (then the normal answer), ``hang`` (until the client gives up), ``status`` (a status with
FastAPI's ``{"detail": ...}`` body, or ``body``/``content_type`` as given), ``html`` (a proxy's HTML error
page), ``text`` (uvicorn's plain-text ``Internal Server Error``), ``json`` (``body`` sent as JSON: wrong types,
missing fields), ``malformed`` (the normal JSON cut in half), ``reset`` (the connection closed without an
answer) and ``huge`` (a JSON array of ``size_bytes``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = ["FAULT_KINDS", "Fault", "fault_response"]

FAULT_KINDS = frozenset({"delay", "hang", "status", "html", "text", "json", "malformed", "reset", "huge"})
_FIELDS = frozenset({"prefix", "kind", "times", "status", "delay_ms", "body", "content_type", "method", "size_bytes"})
_NGINX = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
          "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@dataclass(slots=True)
class Fault:
    """One injected fault for API paths (after ``/api/``) starting with ``prefix``, optionally one method only."""

    prefix: str
    kind: str
    times: int | None = None
    status: int | None = None
    delay_ms: float = 0.0
    body: str | None = None
    content_type: str | None = None
    method: str | None = None
    size_bytes: int = 50_000_000

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

    def applies(self, method: str, tail: str) -> bool:
        """Whether this fault targets a ``method`` call to ``tail`` (the path after ``/api/``)."""
        return tail.startswith(self.prefix.lstrip("/")) and (self.method is None or self.method == method)

    def consume(self) -> bool:
        """Count one application; False when the fault is used up."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def fault_response(fault: Fault, request: web.Request, normal: bytes) -> web.StreamResponse | None:
    """The response ``fault`` produces instead of ``normal``; None means answer normally (after a delay).

    A ``hang`` waits until the handler is cancelled (the client went away or the server is closing).
    """
    kind = fault.kind
    if kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    if kind == "hang":
        await asyncio.Event().wait()
    if kind == "reset":
        if request.transport is not None:
            request.transport.abort()  # no answer at all; aiohttp drops the response written below
        return web.Response(status=500)
    if kind == "huge":
        return await _huge(request, fault.size_bytes, fault.status or 200)
    status = fault.status or {"html": 502, "text": 500, "status": 500}.get(kind, 200)
    if kind == "status":
        if fault.body is None:
            return web.json_response({"detail": _reason(status)}, status=status, content_type="application/json")
        return web.Response(text=fault.body, status=status, content_type=fault.content_type or "application/json")
    if kind == "html":
        page = fault.body or _NGINX.format(status=status, reason=_reason(status))
        return web.Response(text=page, status=status, content_type="text/html")
    if kind == "text":
        return web.Response(text=fault.body or "Internal Server Error", status=status, content_type="text/plain")
    if kind == "json":
        return web.Response(text=fault.body if fault.body is not None else "null", status=status,
                            content_type=fault.content_type or "application/json")
    cut = normal[: max(1, len(normal) // 2)] if normal else b'[{"header":{"identifier":"evidence.acc"'
    return web.Response(body=cut, status=status, content_type="application/json")


async def _huge(request: web.Request, size: int, status: int) -> web.StreamResponse:
    resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    await resp.prepare(request)
    row = (b'{"header":{"identifier":"evidence.x","type":"evidence","timestamp":1,"creator":"admin",'
           b'"level":"version"},"body":{"artifact_type":"evidence"}},')
    chunk = row * 512
    sent = 1
    try:
        await resp.write(b"[")
        while sent < size:
            part = chunk[: max(1, size - sent)]
            await resp.write(part)
            sent += len(part)
        await resp.write(b"{}]")
        await resp.write_eof()
    except (ConnectionError, RuntimeError):  # the client gave up at its size cap: nothing to clean up
        pass
    return resp
