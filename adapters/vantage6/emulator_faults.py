"""Fault injection for the vantage6 emulator: slow, failing, hostile and malformed answers on demand.

Kinds: ``delay`` (then answer normally), ``hang`` (until the client gives up), ``status`` (a status with
vantage6's generic 500 body, or ``body``), ``msg`` (``{"msg": message}`` with ``status``, like the real 500s
``page needs to be >= 1``), ``html`` (an HTML error page, as a proxy in front of the server sends),
``malformed`` (the normal body cut in half), ``wrong_types`` (the normal body with ids turned into words and
``data`` into an object), ``missing_fields`` (the normal body without ``id``/``name``/``data``), ``empty``
(status 200, no body).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from adapters.vantage6.emulator_render import flask_error

__all__ = ["FAULT_KINDS", "Fault", "fault_response"]

FAULT_KINDS = frozenset({"delay", "hang", "status", "msg", "html", "malformed", "wrong_types", "missing_fields",
                         "empty"})
_HTML = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
         "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@dataclass(slots=True)
class Fault:
    """One injected fault for API paths (after ``/api/``) starting with ``prefix`` (``task``, ``run/12``)."""

    prefix: str
    kind: str
    times: int | None = None
    status: int | None = None
    delay_ms: float = 0.0
    message: str | None = None
    body: str | None = None
    method: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the control API's JSON; ValueError for an unknown kind or field."""
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        unknown = set(data) - {"prefix", "kind", "times", "status", "delay_ms", "message", "body", "method"}
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**data)

    def matches(self, method: str, tail: str) -> bool:
        return tail.startswith(self.prefix.strip("/")) and (self.method is None or self.method.upper() == method)

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


def _json(payload: Any, status: int) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, content_type="application/json")


def _wrong_types(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: (f"id-{v}" if k == "id" else _wrong_types(v)) for k, v in value.items()}
        if isinstance(out.get("data"), list):
            out["data"] = {"items": out["data"]}
        return out
    if isinstance(value, list):
        return [_wrong_types(v) for v in value]
    return value


def _missing_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _missing_fields(v) for k, v in value.items() if k not in {"id", "name", "data", "access_token"}}
    if isinstance(value, list):
        return [_missing_fields(v) for v in value]
    return value


async def fault_response(fault: Fault, normal: web.Response) -> web.Response | None:
    """The response ``fault`` produces instead of ``normal``; None means "answer normally" (after a delay)."""
    kind = fault.kind
    body = normal.body if isinstance(normal.body, bytes) else b""
    if kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    if kind == "hang":
        await asyncio.Event().wait()
    if kind == "status":
        status = fault.status or 500
        text = fault.body if fault.body is not None else flask_error("An unexpected error occurred on the server!")
        ctype = "text/html" if text.lstrip().startswith("<") else "application/json"
        return web.Response(text=text, status=status, content_type=ctype)
    if kind == "msg":
        return _json({"msg": fault.message or "An unexpected error occurred on the server!"}, fault.status or 500)
    if kind == "html":
        status = fault.status or 502
        return web.Response(text=fault.body or _HTML.format(status=status, reason=_reason(status)), status=status,
                            content_type="text/html")
    if kind == "malformed":
        return web.Response(body=body[: max(1, len(body) // 2)], status=fault.status or normal.status,
                            content_type="application/json")
    if kind == "empty":
        return web.Response(body=b"", status=fault.status or 200, content_type="application/json")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    mutate = _wrong_types if kind == "wrong_types" else _missing_fields
    response = _json(mutate(payload), fault.status or normal.status)
    for name in ("total-count", "Link"):
        if name in normal.headers:
            response.headers[name] = normal.headers[name]
    return response
