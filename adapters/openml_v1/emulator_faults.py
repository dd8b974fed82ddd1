"""Fault injection for the OpenML v1 emulator: slow, failing, hostile and malformed responses on demand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from adapters.openml_v1.emulator_render import NS, error_xml

__all__ = ["FAULT_KINDS", "Fault", "fault_response"]

FAULT_KINDS = frozenset({"delay", "status", "hang", "malformed", "html", "billion_laughs", "external_entity",
                         "huge", "oml_error"})

_NGINX = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
          "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
           + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1 if i > 1 else "") + ";") * 10}">\n'
                     for i in range(1, 10))
           + f"]>\n<oml:data_set_description {NS}>\n  <oml:id>1</oml:id>\n  <oml:name>&lol9;</oml:name>\n"
           "</oml:data_set_description>\n")
_XXE = ('<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
        f"<oml:data_set_description {NS}>\n  <oml:id>1</oml:id>\n  <oml:name>&xxe;</oml:name>\n"
        "</oml:data_set_description>\n")
_HUGE_ROW = ("  <oml:run>\n    <oml:run_id>1</oml:run_id>\n    <oml:task_id>31</oml:task_id>\n    <oml:task_type_id>1"
             "</oml:task_type_id>\n    <oml:setup_id>1</oml:setup_id>\n    <oml:flow_id>1</oml:flow_id>\n"
             "    <oml:uploader>1</oml:uploader>\n    <oml:upload_time>2014-01-16 09:00:00</oml:upload_time>\n"
             "    <oml:error_message></oml:error_message>\n    <oml:run_details></oml:run_details>\n  </oml:run>\n")


@dataclass(slots=True)
class Fault:
    """One injected fault, applied to API paths starting with `prefix` (e.g. "flow/" or "run/list")."""

    prefix: str
    kind: str
    times: int | None = None
    status: int | None = None
    delay_ms: float = 0.0
    size_bytes: int = 50_000_000
    code: int = 107
    message: str | None = None
    body: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the control API's JSON; raises ValueError for an unknown kind or field."""
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        allowed = {"prefix", "kind", "times", "status", "delay_ms", "size_bytes", "code", "message", "body"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in allowed})

    def consume(self) -> bool:
        """Count one application; False when the fault is used up."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


def _xml(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/xml", charset="utf-8")


async def fault_response(fault: Fault, request: web.Request, normal: bytes) -> web.StreamResponse | None:
    """The response a fault produces; None means "answer normally" (after a `delay`).

    `normal` is the body the endpoint would have returned (used by `malformed`). A `hang` waits until the
    handler is cancelled (client gone or server closing).
    """
    kind = fault.kind
    if kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return None
    if kind == "hang":
        await asyncio.Event().wait()
    if kind == "status":
        status = fault.status or 500
        body = fault.body if fault.body is not None else _NGINX.format(status=status, reason=_reason(status))
        ctype = "text/html" if body.lstrip().startswith("<") else "text/plain"
        return web.Response(text=body, status=status, content_type=ctype)
    if kind == "html":
        status = fault.status or 200
        body = fault.body or _NGINX.format(status=status, reason=_reason(status))
        return web.Response(text=body, status=status, content_type="text/html")
    if kind == "malformed":
        text = normal or f"<oml:data {NS}>\n  <oml:dataset>\n    <oml:did>1</oml:did>\n".encode()
        return web.Response(body=text[: max(1, len(text) // 2)], status=fault.status or 200,
                            content_type="text/xml", charset="utf-8")
    if kind == "billion_laughs":
        return _xml(_LAUGHS, fault.status or 200)
    if kind == "external_entity":
        return _xml(_XXE, fault.status or 200)
    if kind == "oml_error":
        return _xml(error_xml(fault.code, fault.message), fault.status or 412)
    return await _huge(request, fault.size_bytes, fault.status or 200)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _huge(request: web.Request, size: int, status: int) -> web.StreamResponse:
    resp = web.StreamResponse(status=status, headers={"Content-Type": "text/xml; charset=utf-8"})
    await resp.prepare(request)
    head, tail = f"<oml:runs {NS}>\n".encode(), b"</oml:runs>\n"
    chunk = (_HUGE_ROW * 64).encode()
    sent = len(head)
    try:
        await resp.write(head)
        while sent + len(tail) < size:
            part = chunk[: size - len(tail) - sent]
            await resp.write(part)
            sent += len(part)
        await resp.write(tail)
        await resp.write_eof()
    except (ConnectionError, RuntimeError):  # the client gave up (size cap): nothing to clean up
        pass
    return resp
