"""The pytupli emulator's data and rules: users, roles, groups, documents, permissions and BaseFilter matching.

A port of what pytupli 1.2.9's server does (``server/management/authorization.py``, ``roles.py``,
``db/db_handler.py``), kept deliberately quirky where the real server is: the read filter of a list keeps only
the LAST role a user has per group, an owner lacks delete rights in their own user group, anyone logged in may
record episodes on any benchmark (``global`` is always consulted), artifacts are re-stored (so moved to the end
of the list) on every publish/unpublish. Documents are plain dicts in storage order, as Mongo keeps them.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AUTH_ERROR",
    "BUNDLE_CREATE",
    "BUNDLE_DELETE",
    "BUNDLE_READ",
    "DEFAULT_ROLES",
    "GUEST",
    "ApiError",
    "ArtifactFile",
    "QueryError",
    "Store",
    "User",
    "forbidden",
    "matches",
    "password_digest",
]

BUNDLE_READ = ("artifact_read", "benchmark_read", "episode_read")
BUNDLE_CREATE = ("artifact_create", "benchmark_create", "episode_create")
BUNDLE_DELETE = ("artifact_delete", "benchmark_delete", "episode_delete")
_USER = ("user_create", "user_read", "user_update", "user_delete")
_GROUP = ("group_create", "group_read", "group_update", "group_delete")

# (role, rights, description) in the order pytupli inserts them at startup
DEFAULT_ROLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("admin", (*BUNDLE_READ, *BUNDLE_CREATE, *BUNDLE_DELETE, *_USER, *_GROUP, "role_management"),
     "Full access to all resources and management functions."),
    ("content_admin", (*BUNDLE_READ, *BUNDLE_CREATE, *BUNDLE_DELETE), "Can create, edit, and delete content."),
    ("user_admin", _USER, "Can manage users."),
    ("group_admin", (*_GROUP, "user_read"), "Can manage groups."),
    ("guest", BUNDLE_READ, "Limited access for guest users."),
    ("contributor", (*BUNDLE_CREATE, *BUNDLE_READ), "Can create and read content."),
    ("member", ("group_read", "user_read", *BUNDLE_READ), "Can create and read content in a group."),
    ("global_member", ("group_create", "user_read", *BUNDLE_READ), "Can read content and create groups."),
)

GUEST = "$$GUEST$$"


class ApiError(Exception):
    """An HTTP error the emulated FastAPI app answers with: ``{"detail": detail}`` (or a plain-text 500)."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None, *,
                 plain: bool = False) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.plain = plain  # an unhandled exception: text/plain "Internal Server Error"


AUTH_ERROR = (403, "You do not have sufficient permissions for this operation.")


def forbidden() -> ApiError:
    """pytupli's one refusal (``AUTH_ERROR``)."""
    return ApiError(*AUTH_ERROR)


@dataclass
class User:
    """A stored user; ``password_sha256`` (salted with the name) stands in for bcrypt."""

    username: str
    password_sha256: str
    memberships: list[dict[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"User({self.username!r}, memberships={self.memberships!r})"

    def public(self) -> dict[str, Any]:
        """``UserOut``: the name and the stored memberships."""
        return {"username": self.username, "memberships": [dict(m) for m in self.memberships]}


def password_digest(username: str, password: str) -> str:
    """The emulator's stand-in for a bcrypt hash."""
    return hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()


@dataclass
class ArtifactFile:
    """A GridFS file: its bytes and its metadata document (``ArtifactMetadataItem``)."""

    data: bytes
    metadata: dict[str, Any]


# ------------------------------------------------------------------------------------------------ filters


class QueryError(Exception):
    """The database refused the query (the message is what nx-27017 answers; the route wraps it in a 500)."""


def _check_query(flt: Mapping[str, Any]) -> None:
    if flt.get("type") == "IN" and not isinstance(flt.get("value"), list):
        raise QueryError("$in must be followed by an array, full error: "
                         "{'ok': 0, 'errmsg': '$in must be followed by an array'}")
    for child in flt.get("filters") or []:
        _check_query(child)


def _type_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _same(a: Any, b: Any) -> bool:
    return _type_class(a) == _type_class(b) and a == b


def _values(doc: Any, path: list[str]) -> list[Any]:
    """The values at a dotted path, Mongo style: arrays are searched element-wise and also whole."""
    if not path:
        return [*doc, doc] if isinstance(doc, list) else [doc]
    if isinstance(doc, Mapping):
        return _values(doc[path[0]], path[1:]) if path[0] in doc else []
    if isinstance(doc, list):
        if path[0].isdigit() and int(path[0]) < len(doc):
            return _values(doc[int(path[0])], path[1:])
        return [v for item in doc if isinstance(item, Mapping) for v in _values(item, path)]
    return []


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "GT": lambda a, b: a > b, "GEQ": lambda a, b: a >= b, "LT": lambda a, b: a < b, "LEQ": lambda a, b: a <= b,
}


def matches(doc: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    """Whether ``doc`` satisfies a validated BaseFilter, with the Mongo semantics pytupli relies on."""
    kind = flt.get("type", "OR")
    if kind in ("AND", "OR"):
        children = flt.get("filters") or []
        if not children:
            return True  # pytupli turns an empty AND/OR into {}
        test = all if kind == "AND" else any
        return test(matches(doc, child) for child in children)
    found = _values(doc, str(flt["key"]).split("."))
    value = flt["value"]
    if kind == "EQ":
        return any(_same(v, value) for v in found)
    if kind == "NE":
        return not any(_same(v, value) for v in found)
    if kind == "IN":
        return any(_same(v, want) for v in found for want in value)
    compare = _ORDER[kind]
    return any(_type_class(v) == _type_class(value) and _type_class(v) in ("number", "string") and compare(v, value)
               for v in found)


# ------------------------------------------------------------------------------------------------ store


class Store:
    """Everything a pytupli server keeps, plus its permission rules; ``clock`` stamps ``created_at``."""

    def __init__(self, *, seed: int = 7, clock: Callable[[], datetime] = datetime.now) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.roles: dict[str, tuple[tuple[str, ...], str]] = {r: (rights, d) for r, rights, d in DEFAULT_ROLES}
        self.users: dict[str, User] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.benchmarks: list[dict[str, Any]] = []
        self.episodes: list[dict[str, Any]] = []
        self.artifacts: list[ArtifactFile] = []

    def new_id(self) -> str:
        """A uuid4 hex string, deterministic per seed."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def now(self) -> str:
        """``datetime.now().isoformat()``, as pytupli stamps ``created_at`` (naive, microseconds)."""
        return self.clock().isoformat()

    def add_user(self, username: str, password: str, memberships: Iterable[dict[str, Any]] = ()) -> User:
        """Store a user (replacing one of the same name)."""
        user = User(username, password_digest(username, password), [dict(m) for m in memberships])
        self.users[username] = user
        return user

    def check_password(self, username: str, password: str) -> User | None:
        """The user if the password is right, else None."""
        user = self.users.get(username)
        if user is None or user.password_sha256 != password_digest(username, password):
            return None
        return user

    # ------------------------------------------------------------------------------------------ rights

    @staticmethod
    def memberships(user: User | None) -> list[tuple[str, list[str]]]:
        """The stored memberships plus the implicit ``global`` and own-name groups (none for the guest)."""
        if user is None:
            return [("global", ["guest"])]
        out = [(str(m["group"]), list(m["roles"])) for m in user.memberships]
        out.append(("global", ["global_member", "contributor"]))
        out.append((user.username, ["user_admin", "contributor"]))
        return out

    def rights_in_groups(self, user: User | None, groups: Iterable[str]) -> set[str]:
        """The union of the rights of every role ``user`` holds in any of ``groups``."""
        wanted = set(groups)
        rights: set[str] = set()
        for group, roles in self.memberships(user):
            if group in wanted:
                for role in roles:
                    rights.update(self.roles.get(role, ((), ""))[0])
        return rights

    def read_groups(self, user: User | None, right: str) -> list[str]:
        """Groups whose items ``user`` may list: only the LAST role per group counts (pytupli's dict)."""
        last = {group: role for group, roles in self.memberships(user) for role in roles}
        return [group for group, role in last.items() if right in self.roles.get(role, ((), ""))[0]]

    def require_group_right(self, user: User | None, group: str, right: str) -> None:
        """``check_group_permissions``: 403 naming the group and the right when missing."""
        if right not in self.rights_in_groups(user, [group]):
            raise ApiError(403, f"Insufficient permissions in group: {group}. Required: {right}")

    def find(self, kind: str, item_id: Any) -> dict[str, Any] | None:
        """The stored header of one object (an artifact's metadata), or None."""
        if kind == "artifact":
            file = self.artifact_file(item_id)
            return file.metadata if file else None
        docs = self.benchmarks if kind == "benchmark" else self.episodes
        return next((d for d in docs if d["id"] == item_id), None)

    def artifact_file(self, artifact_id: Any) -> ArtifactFile | None:
        """The stored artifact file with that id, or None."""
        return next((f for f in self.artifacts if f.metadata.get("id") == artifact_id), None)

    def authorize(self, user: User | None, kind: str, right: str | None, item_id: Any,
                  requires_ownership: bool = False) -> dict[str, Any] | None:
        """``check_authorization`` for content: the object the request names (None if unknown) or 403."""
        if right is None:
            return None
        name = user.username if user else GUEST
        item = None
        if right in BUNDLE_CREATE:
            rights = self.rights_in_groups(user, ["global", name])
        else:
            item = self.find(kind, item_id)
            if item is None:
                return None  # unknown ids pass: the endpoint decides (404, or 200 null for deletes)
            owner = item.get("created_by") == name
            if requires_ownership and not owner:
                raise forbidden()
            if owner:
                rights = set(BUNDLE_DELETE + BUNDLE_READ)
            elif right in BUNDLE_READ:
                rights = self.rights_in_groups(user, item.get("published_in") or [])
            else:
                rights = self.rights_in_groups(user, ["global"])
        if right not in rights:
            raise forbidden()
        return item

    def readable(self, user: User | None, right: str, docs: Iterable[dict[str, Any]], flt: Mapping[str, Any],
                 prefix: str = "") -> list[dict[str, Any]]:
        """``inject_read_permission_filter`` + the query: the docs (wrapped under ``prefix``) that match.
        QueryError for a query the database refuses."""
        allowed = {"type": "IN", "key": f"{prefix}.published_in" if prefix else "published_in",
                   "value": self.read_groups(user, right)}
        combined = {"type": "AND", "filters": [allowed, dict(flt)]}
        _check_query(combined)
        out = []
        for doc in docs:
            wrapped = {prefix: doc} if prefix else doc
            if matches(wrapped, combined):
                out.append(doc)
        return out
