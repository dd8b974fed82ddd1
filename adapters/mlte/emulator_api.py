"""The MLTE 2.7 REST API as the emulator serves it: routes, FastAPI's order of checks, and the handlers.

Order of checks per request, as FastAPI runs them: route match (404 ``Not Found`` / 405), JSON decoding of
the body (422 ``json_invalid`` even without a token), the bearer token (401 ``Not authenticated`` or
``Unauthorized`` + ``www-authenticate``), the user (a deleted user's token is uvicorn's plain-text 500),
permissions (403), then query and body validation (422), then the handler. ``MLTEBackend.handle`` is pure
with respect to HTTP: it takes an ``ApiRequest`` and returns an ``ApiResponse``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from adapters.mlte import emulator_schema as sc
from adapters.mlte.emulator_auth import TokenError, User, decode_token, encode_token, is_authorized
from adapters.mlte.emulator_store import ArtifactStore, Conflict, Missing, ServerFault, StoreError

__all__ = ["API_PREFIX", "ApiRequest", "ApiResponse", "MLTEBackend"]

API_PREFIX = "/api"
_OAUTH_JSON = "application/json;charset=UTF-8"
_USER = sc.model(("username", sc.string, sc.REQUIRED), ("email", sc.optional(sc.string), None),
                 ("full_name", sc.optional(sc.string), None), ("disabled", sc.boolean, False),
                 ("role", sc.choice(("admin", "regular"), "'admin' or 'regular'"), "regular"),
                 ("groups", sc.list_of(sc.anything), []), ("password", sc.string, sc.REQUIRED))


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request: the decoded path (with the ``/api`` prefix), query, headers and raw body."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(slots=True)
class ApiResponse:
    """A JSON (or, for uvicorn's own 500, plain-text) answer."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        """The body bytes as FastAPI writes them (compact JSON, UTF-8, no ASCII escaping)."""
        if self.content_type.startswith("text/"):
            return str(self.payload).encode()
        return json.dumps(self.payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class _Answer(Exception):
    def __init__(self, response: ApiResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _detail(status: int, detail: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(ApiResponse(status, {"detail": detail}, headers or {}))


_PLAIN_500 = ApiResponse(500, "Internal Server Error", content_type="text/plain; charset=utf-8")


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: tuple[str, ...]
    method: str
    handler: Callable[[MLTEBackend, _Call], Any]
    body: sc.Spec | None = None
    paged: bool = False
    auth: bool = True


@dataclass(slots=True)
class _Call:
    user: User | None
    params: dict[str, str]
    body: Any = None
    limit: int = 100
    offset: int = 0


def _revert(segment: str) -> str:
    return segment.replace("---", "/")  # mlte._private.url.revert_valid_url_part


class MLTEBackend:
    """The emulated server: users, the artifact store, the JWT secret and the clock."""

    def __init__(self, *, secret: str, admin_password: str = "admin1234", token_ttl: int = 7200,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.token_ttl = token_ttl
        self.clock = clock
        self.store = ArtifactStore()
        self.users: dict[str, User] = {"admin": User("admin", admin_password, role="admin")}

    # ------------------------------------------------------------------------------------------ dispatch

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request as MLTE 2.7 would."""
        try:
            return self._handle(request)
        except _Answer as answer:
            return answer.response

    def _handle(self, request: ApiRequest) -> ApiResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            raise _detail(404, "Not Found")
        resource_path = request.path[len(API_PREFIX):]
        segments = resource_path.strip("/").split("/") if resource_path.strip("/") else []
        route, params, allowed = _match(segments, request.method)
        if route is None:
            if allowed:
                raise _Answer(ApiResponse(405, {"detail": "Method Not Allowed"}, {"allow": ", ".join(allowed)}))
            raise _detail(404, "Not Found")
        if route.pattern == ("token",):
            return self._token(request)
        raw = _read_json(request) if route.body is not None else None
        user = self._authorize(request, resource_path, raw) if route.auth else None
        errors: sc.Errors = []
        call = _Call(user=user, params={k: _revert(v) for k, v in params.items()})
        if route.paged:
            call.limit = _query_int(request.query, "limit", 100, errors)
            call.offset = _query_int(request.query, "offset", 0, errors)
        if route.body is not None:
            if raw is None:
                errors.append({"type": "missing", "loc": ["body"], "msg": "Field required", "input": None})
            else:
                call.body = route.body(raw, ("body",), errors)
        if errors:
            raise _detail(422, errors)
        try:
            payload = route.handler(self, call)
        except Missing as exc:
            raise _detail(404, f"{exc.message} not found.") from None
        except Conflict as exc:
            raise _detail(409, f"{exc.message} already exists.") from None
        except StoreError:
            raise _detail(500, "Internal server error.") from None
        return ApiResponse(200, payload)

    def _authorize(self, request: ApiRequest, resource_path: str, body: Any) -> User:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            raise _detail(401, "Not authenticated", {"www-authenticate": "Bearer"})
        try:
            username = decode_token(token, self.secret, self.clock())
        except TokenError as exc:
            challenge = f'Bearer error="invalid_token", error_description="Could not decode token: {exc}"'
            raise _detail(401, "Unauthorized", {"www-authenticate": challenge}) from None
        user = self.users.get(username)
        if user is None:
            raise _Answer(_PLAIN_500)  # the user store raises instead of returning None: uvicorn's 500
        if user.disabled:
            raise _detail(403, "User is inactive")
        if request.method in {"POST", "PUT"} and isinstance(body, dict) and resource_path.count("/") == 1:
            key = "identifier" if resource_path.startswith("/model") else "username"
            if body.get(key) is not None and not isinstance(body.get(key), str):
                raise _Answer(_PLAIN_500)  # Permission(resource_id=<not a str>) fails inside the dependency
        if not is_authorized(user, request.method, resource_path, body):
            raise _detail(403, "User is not authorized to access this resource.")
        return user

    def _token(self, request: ApiRequest) -> ApiResponse:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        form: dict[str, str] = {}
        if ctype == "application/x-www-form-urlencoded":
            form = {k: v for k, v in parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True) if v}
        errors: sc.Errors = []
        grant = form.get("grant_type")
        if grant is not None and grant != "password":
            errors.append({"type": "string_pattern_mismatch", "loc": ["body", "grant_type"],
                           "msg": "String should match pattern '^password$'", "input": grant,
                           "ctx": {"pattern": "^password$"}})
        for name in ("username", "password"):
            if name not in form:
                errors.append({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None})
        if errors:
            raise _detail(422, errors)
        if grant is None:
            raise _oauth("unsupported_grant_type", "Grant type None is not supported.")
        user = self.users.get(form["username"])
        if user is None or user.password != form["password"]:
            raise _oauth("invalid_grant", "Incorrect username or password.")
        if user.disabled:
            raise _oauth("invalid_request", "User is inactive.")
        token = encode_token(user.username, int(self.clock() + self.token_ttl), self.secret)
        return ApiResponse(200, {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl})

    # ------------------------------------------------------------------------------------------ handlers

    def _create_model(self, call: _Call) -> Any:
        created = self.store.create_model(call.body["identifier"])
        if call.user is not None and call.user.role != "admin":
            call.user.models.append(created["identifier"])
        return created

    def _delete_model(self, call: _Call) -> Any:
        deleted = self.store.delete_model(call.params["m"])
        for user in self.users.values():
            if deleted["identifier"] in user.models:
                user.models.remove(deleted["identifier"])
        return deleted

    def _list_artifacts(self, call: _Call) -> Any:
        try:
            items = self.store.list_artifacts(call.params["m"], call.params["v"])
        except StoreError:
            raise ServerFault() from None  # read_artifacts catches nothing specific: a missing version is a 500
        return items[call.offset: call.offset + call.limit]

    def _search(self, call: _Call) -> Any:
        try:
            return self.store.search(call.params["m"], call.params["v"], call.body)
        except StoreError:
            raise ServerFault() from None

    def _write(self, call: _Call) -> Any:
        assert call.user is not None
        now = self.clock()
        stored = self.store.write_artifact(call.params["m"], call.params["v"], call.body, user=call.user.username,
                                           now=int(now), local_now=datetime.fromtimestamp(now))
        return {"artifact": stored}

    def _create_user(self, call: _Call) -> Any:
        body = call.body
        if body["username"] in self.users:
            raise Conflict(f"User {body['username']}")
        user = User(body["username"], body["password"], role=body["role"], email=body["email"],
                    full_name=body["full_name"], disabled=body["disabled"])
        self.users[user.username] = user
        return user.to_json(with_hash=True)

    def _user(self, name: str) -> User:
        if name not in self.users:
            raise Missing(f"User {name}")
        return self.users[name]

    def _my_models(self, call: _Call) -> Any:
        assert call.user is not None
        return list(self.store.models) if call.user.role == "admin" else list(call.user.models)

    def _not_emulated(self, call: _Call) -> Any:
        raise _detail(404, "Not Found")

    def _delete_user(self, call: _Call) -> Any:
        return self.users.pop(self._user(call.params["u"]).username).to_json(with_hash=True)


def _oauth(error: str, description: str) -> _Answer:
    return _Answer(ApiResponse(400, {"error": error, "error_description": description},
                               content_type=_OAUTH_JSON))


def _read_json(request: ApiRequest) -> Any:
    """FastAPI decodes a JSON (or untyped) body before any dependency runs."""
    if not request.body:
        return None
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and not (ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))):
        return request.body.decode("utf-8", "replace")
    try:
        return json.loads(request.body)
    except json.JSONDecodeError as exc:
        raise _detail(422, [{"type": "json_invalid", "loc": ["body", exc.pos], "msg": "JSON decode error",
                             "input": {}, "ctx": {"error": exc.msg}}]) from None
    except UnicodeDecodeError:
        raise _detail(422, [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                             "input": {}, "ctx": {"error": "Invalid UTF-8"}}]) from None


def _query_int(query: Mapping[str, str], name: str, default: int, errors: sc.Errors) -> int:
    if name not in query:
        return default
    value = sc.integer(query[name], ("query", name), errors)
    return default if value is sc.BAD else int(value)


_B = MLTEBackend
_ROUTES: tuple[_Route, ...] = (  # in MLTE's declaration order: a 405's ``allow`` names the first path match
    _Route(("healthz",), "GET", lambda b, c: {"status": "healthy"}, auth=False),
    _Route(("token",), "POST", lambda b, c: None, auth=False),
    _Route(("model",), "POST", _B._create_model, body=sc.MODEL),
    _Route(("model", "{m}"), "GET", lambda b, c: b.store.read_model(c.params["m"])),
    _Route(("model",), "GET", lambda b, c: list(b.store.models)),
    _Route(("model", "{m}"), "DELETE", _B._delete_model),
    _Route(("model", "{m}", "version"), "POST",
           lambda b, c: b.store.create_version(c.params["m"], c.body["identifier"]), body=sc.VERSION),
    _Route(("model", "{m}", "version", "{v}"), "GET", lambda b, c: b.store.read_version(c.params["m"], c.params["v"])),
    _Route(("model", "{m}", "version"), "GET", lambda b, c: b.store.list_versions(c.params["m"])),
    _Route(("model", "{m}", "version", "{v}"), "DELETE",
           lambda b, c: b.store.delete_version(c.params["m"], c.params["v"])),
    _Route(("model", "{m}", "version", "{v}", "artifact"), "POST", _B._write, body=sc.WRITE_REQUEST),
    _Route(("model", "{m}", "version", "{v}", "artifact", "{a}"), "GET",
           lambda b, c: b.store.read_artifact(c.params["m"], c.params["v"], c.params["a"])),
    _Route(("model", "{m}", "version", "{v}", "artifact"), "GET", _B._list_artifacts, paged=True),
    _Route(("model", "{m}", "version", "{v}", "artifact", "search"), "POST", _B._search, body=sc.QUERY),
    _Route(("model", "{m}", "version", "{v}", "artifact", "{a}"), "DELETE",
           lambda b, c: b.store.delete_artifact(c.params["m"], c.params["v"], c.params["a"])),
    _Route(("user", "me"), "GET", lambda b, c: c.user.to_json() if c.user else None),
    _Route(("user", "me", "models"), "GET", _B._my_models),
    _Route(("user",), "POST", _B._create_user, body=_USER),
    _Route(("user", "{u}"), "GET", lambda b, c: b._user(c.params["u"]).to_json(with_hash=True)),
    _Route(("user",), "GET", lambda b, c: list(b.users)),
    _Route(("user", "{u}"), "DELETE", _B._delete_user),
    # catalogs and custom lists are not emulated: the routes exist (auth first, as upstream), then 404
    _Route(("custom_lists",), "GET", _B._not_emulated),
    _Route(("custom_list", "{c}"), "GET", _B._not_emulated),
    _Route(("custom_list", "{c}", "entry"), "POST", _B._not_emulated),
    _Route(("custom_list", "{c}", "entry", "{e}"), "GET", _B._not_emulated),
    _Route(("catalogs",), "GET", _B._not_emulated),
)

def _match(segments: list[str], method: str) -> tuple[_Route | None, dict[str, str], list[str]]:
    """The first route whose pattern and method match; else the method of the first route whose path matches
    (Starlette answers 405 with that one route's methods)."""
    allowed: list[str] = []
    for route in _ROUTES:
        if len(route.pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for pattern, segment in zip(route.pattern, segments, strict=True):
            if pattern.startswith("{"):
                if not segment:
                    break
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                break
        else:
            if route.method == method:
                return route, params, allowed
            allowed = allowed or [route.method]
    return None, {}, allowed
