"""Request plumbing of the vantage6 emulator: replies, auth, JSON bodies, pagination, sorting and LIKE filters.

Everything here reproduces a layer of the real stack: Flask-JWT-Extended (bearer parsing, token errors,
``only_for`` client types, where a wrong client type is a bare 500), werkzeug (``{"message": ...}`` for a body
that is not JSON, HTML for an unknown path), and vantage6's ``Pagination`` (``total-count`` and ``Link``
headers, ``links`` in the body, 500s for ``page=0``, ``per_page=abc`` and unknown sort fields).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from multidict import MultiDictProxy

from adapters.vantage6 import emulator_jwt as jwt
from adapters.vantage6.emulator_render import Methods, dumps, flask_error
from adapters.vantage6.emulator_store import Identity, Store

__all__ = ["HTML_404", "ApiError", "Ctx", "Reply", "generic_500", "like", "msg", "paginate", "reply"]

T = TypeVar("T")

HTML_404 = ("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL "
            "was not found on the server. If you entered the URL manually please check your spelling and try "
            "again.</p>\n")
_BAD_JSON = "The browser (or proxy) sent a request that this server could not understand."
_NOT_JSON = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."

# Columns a sort may name (vantage6 accepts any attribute of the model: ``hasattr(model, field)``).
SORTABLE: Mapping[str, frozenset[str]] = {
    "Organization": frozenset({"id", "name", "domain", "address1", "address2", "zipcode", "country"}),
    "Collaboration": frozenset({"id", "name", "encrypted"}),
    "Node": frozenset({"id", "name", "ip", "last_seen", "status", "type", "organization_id", "collaboration_id"}),
    "User": frozenset({"id", "username", "firstname", "lastname", "email", "organization_id", "last_seen"}),
    "Task": frozenset({"id", "name", "description", "image", "job_id", "created_at", "collaboration_id",
                       "init_org_id", "init_user_id", "parent_id"}),
    "Run": frozenset({"id", "task_id", "organization_id", "status", "assigned_at", "started_at", "finished_at",
                      "log", "input", "result"}),
}
_ATTR = {"init_org_id": "init_org_id", "last_seen": "last_seen"}


@dataclass
class Reply:
    """One HTTP answer of the emulator."""

    status: int
    body: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Stop handling and answer ``reply``."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A resource answer (``json.dumps`` defaults)."""
    return Reply(status, dumps(payload), headers=headers or {})


def msg(status: int, text: str) -> ApiError:
    """A resource error: ``{"msg": text}``."""
    return ApiError(reply({"msg": text}, status))


def generic_500() -> ApiError:
    """The catch-all handler's answer to an unexpected exception."""
    return ApiError(Reply(500, flask_error("An unexpected error occurred on the server!")))


@dataclass
class Ctx:
    """One request as the handlers see it."""

    store: Store
    methods: Methods
    api: str
    method: str
    path: str
    query: MultiDictProxy[str]
    headers: Mapping[str, str]
    raw_body: bytes
    secret: str
    _json: Any = None

    def auth(self, kinds: Sequence[str] = ("user", "node")) -> Identity:
        """The caller, as ``only_for(kinds)`` resolves it; raises the JWT or 500 errors the real stack raises."""
        try:
            claims = jwt.decode(jwt.bearer(self.headers.get("Authorization")), self.secret, want="access")
        except jwt.JwtError as exc:
            raise ApiError(Reply(exc.status, flask_error(exc.message))) from None
        client_type = claims.get("client_type")
        who = self.store.identity(str(client_type), claims.get("sub"))  # type: ignore[arg-type]
        if who is None:
            raise ApiError(Reply(401, flask_error(f"Error loading the user {claims.get('sub')}")))
        if client_type not in kinds:
            raise generic_500()  # as upstream: only_for() raises a bare Exception for the wrong client type
        self.store.touch(who)
        return who

    def body(self) -> Any:
        """``request.get_json()``: werkzeug's 415 / 400 (``{"message": ...}``) for a missing or broken body."""
        if self._json is not None:
            return self._json
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise ApiError(reply({"message": _NOT_JSON}, 415))
        try:
            self._json = json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(reply({"message": _BAD_JSON}, 400)) from None
        return self._json

    def arg_int(self, name: str) -> int | None:
        """An integer query argument; ``int()`` of garbage is an unhandled ValueError upstream (500)."""
        if name not in self.query:
            return None
        try:
            return int(self.query[name])
        except ValueError:
            raise generic_500() from None

    def includes(self, what: str) -> bool:
        return what in self.query.getall("include", [])


def like(pattern: str, value: str | None) -> bool:
    """SQL ``LIKE`` as SQLite evaluates it (``%``, ``_``, ASCII case-insensitive)."""
    if value is None:
        return False
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def _sorted(items: list[T], sort: str, model: str, attr: Callable[[T, str], Any]) -> list[T]:
    keys = []
    for raw in sort.split(","):
        name = raw.strip()
        descending = name.startswith("-")
        if name[:1] in "+-" and name:
            name = name[1:]
        if name not in SORTABLE[model]:
            raise msg(500, f"Cannot sort a '{model}' by '{name}' because it does not exist")
        keys.append((name, descending))
    out = list(items)
    for name, descending in reversed(keys):  # stable sorts, last key first; NULLs first ascending (SQLite)
        out.sort(key=lambda item, n=name: _null_first(attr(item, n)), reverse=descending)
    return out


def _null_first(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


def paginate(ctx: Ctx, items: Iterable[T], model: str, render: Callable[[T], Any], *, newest_first: bool = False,
             natural: Callable[[T], Any] | None = None, attr: Callable[[T, str], Any] = getattr) -> Reply:
    """vantage6's ``Pagination.from_query`` and ``response``: the page, ``links``, ``total-count``, ``Link``.

    Tasks and runs are ordered by id descending before any ``sort`` (which then only breaks ties). Other lists
    come in SQLite's order: by id, or by ``natural`` (a unique index SQLite chose to scan) when given.
    """
    rows = list(items)
    total = len(rows)
    try:
        page = int(ctx.query.get("page", 1))
        per_page = int(ctx.query.get("per_page", 10))
    except ValueError as exc:
        raise msg(500, str(exc)) from None
    if page <= 0:
        raise msg(500, "page needs to be >= 1")
    if per_page <= 0:
        raise msg(500, "per_page needs to be >= 1")
    rows.sort(key=lambda item: attr(item, "id"), reverse=newest_first)
    if natural is not None and not ctx.query.get("sort"):
        rows.sort(key=natural)
    if ctx.query.get("sort"):
        sort = ctx.query["sort"]
        ordered = _sorted(rows, sort, model, attr)
        rows = rows if newest_first else ordered  # a sort after ``ORDER BY id DESC`` never reorders unique ids
    chunk = rows[(page - 1) * per_page : page * per_page]
    links = _links(ctx, page, per_page, total, len(chunk))
    headers = {"total-count": str(total), "Link": ",".join(f"<{url}>; rel={rel}" for rel, url in links.items()),
               "access-control-expose-headers": "total-count, Link"}
    return reply({"data": [render(row) for row in chunk], "links": links}, 200, headers)


def _links(ctx: Ctx, page: int, per_page: int, total: int, shown: int) -> dict[str, str]:
    args: dict[str, str] = {}
    for key, value in ctx.query.items():
        args.setdefault(key, value)  # werkzeug's MultiDict keeps the first value of a repeated key here
    has_next = (page - 1) * per_page + shown < total
    pages = -(-total // per_page)
    navs = (("first", 1), ("previous", page - 1 if page > 1 else None), ("self", page),
            ("next", page + 1 if has_next else None), ("last", pages or None))
    links = {}
    for rel, number in navs:
        if number:
            args["page"] = str(number)
            links[rel] = f"{ctx.path}?{urlencode(args)}"
    return links
