"""The pytupli emulator's HTTP layer: FastAPI's request handling and error shapes around the route handlers.

FastAPI's order is kept: a body that is not JSON is refused (422) before anything else, then the
authorization dependency runs (401/403), then query and body validation (422), then the endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.pytupli import emulator_validation as v
from adapters.pytupli.emulator_auth import authenticate, encode_token
from adapters.pytupli.emulator_store import ApiError, Store, User, forbidden

__all__ = ["ApiConfig", "Handler", "PytupliApi", "Req", "Route", "error_response", "json_body"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """The server's environment: ``API_SECRET_KEY``, open access and signup modes, token lifetimes."""

    secret: str = field(repr=False)
    open_access: bool = True
    open_signup: bool = True
    access_minutes: float = 30.0
    refresh_minutes: float = 60 * 7 * 30


def json_body(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A response as Starlette's JSONResponse renders it (compact, UTF-8, ``application/json``)."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=data, status=status, headers={**(headers or {}), "Content-Type": "application/json"})


def error_response(exc: ApiError) -> web.Response:
    """``{"detail": ...}`` with the error's headers, or the bare text/plain 500 of an unhandled exception."""
    if exc.plain:
        return web.Response(body=b"Internal Server Error", status=500,
                            headers={"Content-Type": "text/plain; charset=utf-8"})
    return json_body({"detail": exc.detail}, exc.status, exc.headers)


@dataclass
class Req:
    """What a handler sees of one request."""

    request: web.Request
    query: Mapping[str, str]
    body: Any  # parsed JSON (None when empty), or None for multipart
    user: User | None = None


Handler = Callable[["PytupliApi", Req], Awaitable[Any]]
Route = tuple[str, str, Handler, bool]  # path, method, handler, whether the body is JSON


class PytupliApi:
    """Routes over one Store: request parsing, FastAPI's error shapes and the authorization helpers."""

    def __init__(self, store: Store, config: ApiConfig, routes: Iterable[Route]) -> None:
        self.store = store
        self.config = config
        self.routes: dict[str, dict[str, tuple[Handler, bool]]] = {}  # path -> method -> (handler, json body)
        for path, method, handler, has_body in routes:
            self.routes.setdefault(path, {})[method] = (handler, has_body)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request; never raises."""
        methods = self.routes.get(request.path)
        if methods is None:
            return json_body({"detail": "Not Found"}, 404)
        if request.method not in methods:
            return json_body({"detail": "Method Not Allowed"}, 405, {"Allow": ", ".join(methods)})
        handler, has_body = methods[request.method]
        try:
            body = v.parse_json_body(await request.read()) if has_body else None
            result = await handler(self, Req(request, request.query, body))
        except ApiError as exc:
            return error_response(exc)
        except v.RequestInvalid as exc:
            return json_body({"detail": exc.errors}, 422)
        return result if isinstance(result, web.StreamResponse) else json_body(result)

    # ------------------------------------------------------------------------------------------ helpers

    def caller(self, req: Req) -> User | None:
        """Authenticate the request (HTTPBearer + ``authenticate_user``)."""
        req.user = authenticate(self.store, req.request.headers.get("Authorization"), self.config.secret,
                                self.config.open_access)
        return req.user

    def params(self, req: Req) -> dict[str, Any]:
        """``_extract_request_params``: the query, overridden by the keys of a JSON object body."""
        out: dict[str, Any] = dict(req.query)
        if isinstance(req.body, dict):
            out.update(req.body)
        return out

    def authorize(self, req: Req, kind: str, right: str | None, ownership: bool = False) -> dict[str, Any] | None:
        """``check_authorization`` for content routes: the named object (None if unknown), or 401/403."""
        user = self.caller(req)
        return self.store.authorize(user, kind, right, self.params(req).get(f"{kind}_id"), ownership)

    def require(self, req: Req, groups: list[str], right: str) -> User | None:
        """``check_authorization`` for users, groups and roles: ``right`` somewhere in ``groups``."""
        user = self.caller(req)
        if right not in self.store.rights_in_groups(user, groups):
            raise forbidden()
        return user

    def token(self, username: str, minutes: float) -> dict[str, str]:
        """A ``Token`` answer for ``username`` valid ``minutes``."""
        return {"token": encode_token(self.config.secret, username, minutes), "token_type": "bearer"}
