"""Auth for the MLTE emulator: HS256 JWTs as python-jose writes and refuses them, users, and MLTE's permissions.

MLTE 2.7 signs ``{"sub": <username>, "exp": <epoch>}`` with HS256 and reports a refused token through the
``www-authenticate`` header as ``Could not decode token: <reason>``; the reasons here are python-jose's own
words (``Not enough segments``, ``Signature verification failed.``, ``Signature has expired.``...). Roles are
``admin`` (everything) and ``regular``: MLTE's default groups let a regular user POST anything under
``/model`` but read, edit and delete only the models it created through ``POST /model`` (matched against the
raw URL segment, so a model whose name has a ``/`` is unreadable even by its creator, as upstream).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TokenError", "User", "decode_token", "encode_token", "is_authorized"]

ALGORITHM = "HS256"


class TokenError(Exception):
    """A token MLTE would refuse; ``str(exc)`` is the description MLTE puts in ``www-authenticate``."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def encode_token(username: str, expires_at: int, secret: str) -> str:
    """Return the JWT MLTE issues for ``username`` (claims ``sub`` and ``exp``, HS256)."""
    header = _b64encode(json.dumps({"alg": ALGORITHM, "typ": "JWT"}, separators=(",", ":")).encode())
    claims = _b64encode(json.dumps({"sub": username, "exp": expires_at}, separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64encode(signature)}"


def _load(token: bytes) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """jose.jws._load: split and decode, with jose's messages."""
    try:
        signing_input, crypto = token.rsplit(b".", 1)
        header_segment, claims_segment = signing_input.split(b".", 1)
        header_data = _b64decode(header_segment)
    except ValueError:  # binascii.Error is a ValueError too: jose says "Not enough segments" for both
        raise TokenError("Error decoding token: Not enough segments") from None
    try:
        header = json.loads(header_data.decode("utf-8"))
    except ValueError as exc:
        raise TokenError(f"Error decoding token: Invalid header string: {exc}") from None
    if not isinstance(header, dict):
        raise TokenError("Error decoding token: Invalid header string: must be a json object")
    try:
        payload = _b64decode(claims_segment)
    except (TypeError, binascii.Error):
        raise TokenError("Error decoding token: Invalid payload padding") from None
    try:
        signature = _b64decode(crypto)
    except (TypeError, binascii.Error):
        raise TokenError("Error decoding token: Invalid crypto padding") from None
    return header, payload, signing_input, signature


def decode_token(token: str, secret: str, now: float) -> str:
    """Return the username of a valid token; raise TokenError with MLTE's description otherwise."""
    header, payload, signing_input, signature = _load(token.encode("utf-8"))
    if header.get("alg") != ALGORITHM:
        raise TokenError("Error decoding token: The specified alg value is not allowed")
    expected = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise TokenError("Error decoding token: Signature verification failed.")
    try:
        claims = json.loads(payload.decode("utf-8"))
    except ValueError as exc:
        raise TokenError(f"Error decoding token: Invalid payload string: {exc}") from None
    if not isinstance(claims, dict):
        raise TokenError("Error decoding token: Invalid payload string: must be a json object")
    exp = claims.get("exp")
    if exp is not None:
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise TokenError("Error decoding token: Expiration Time claim (exp) must be an integer.")
        if exp < now:
            raise TokenError("Error decoding token: Signature has expired.")
    username = claims.get("sub")
    if username is None:
        raise TokenError("No valid user in token")
    if exp is None:
        raise TokenError("No valid expiration time in token")
    return str(username)


def _group_name(model: str) -> str:
    return model.replace("-", "___")  # MLTE escapes dashes in group names


@dataclass
class User:
    """An MLTE user as the emulator keeps it (the password in clear: this is a test double)."""

    username: str
    password: str
    role: str = "regular"
    email: str | None = None
    full_name: str | None = None
    disabled: bool = False
    models: list[str] = field(default_factory=list)

    def groups(self) -> list[dict[str, Any]]:
        """MLTE's default groups of this user, in MLTE's order (admins have none: they may do anything)."""
        if self.role == "admin":
            return []

        def perm(kind: str, rid: str | None, *methods: str) -> list[dict[str, Any]]:
            return [{"resource_type": kind, "resource_id": rid, "method": m} for m in methods]

        u = self.username
        groups = [
            {"name": "create-model", "permissions": perm("model", None, "post")},
            {"name": "read-custom_list", "permissions": perm("custom_list", None, "get")},
            {"name": "create-custom_list", "permissions": perm("custom_list", None, "post")},
            {"name": "edit-custom_list", "permissions": perm("custom_list", None, "put", "delete")},
            {"name": f"read-user-{u}", "permissions": perm("user", u, "get")},
            {"name": f"edit-user-{u}", "permissions": perm("user", u, "put", "delete", "post")},
        ]
        for model in self.models:
            groups.append({"name": f"read-model-{_group_name(model)}", "permissions": perm("model", model, "get")})
            groups.append({"name": f"edit-model-{_group_name(model)}",
                           "permissions": perm("model", model, "put", "delete", "post")})
        return groups

    def to_json(self, *, with_hash: bool = False) -> dict[str, Any]:
        """The user as ``GET /user/me`` (no hash) or ``GET /user/{name}`` (with a bcrypt-looking hash) show it."""
        out: dict[str, Any] = {"username": self.username, "email": self.email, "full_name": self.full_name,
                               "disabled": self.disabled, "role": self.role, "groups": self.groups()}
        if with_hash:
            digest = _b64encode(hashlib.sha256(f"{self.username}:{self.password}".encode()).digest())
            out["hashed_password"] = "$2b$12$" + (digest + digest)[:53].replace("-", ".").replace("_", "/")
        return out


def is_authorized(user: User, method: str, resource_path: str, body: Any) -> bool:
    """MLTE's ``is_authorized`` for ``resource_path`` (the path after ``/api``, e.g. ``/model/m/version``).

    A search (``.../search``) counts as a GET; the resource id is the raw second path segment, or the body's
    ``identifier``/``username`` for collection URLs.
    """
    if user.role == "admin":
        return True
    parts = resource_path.split("/")
    kind = parts[1] if len(parts) > 1 else ""
    if kind not in {"model", "user"}:
        return False
    resource_id: Any = parts[2] if len(parts) > 2 else None
    if resource_id is None and isinstance(body, dict):
        resource_id = body.get("identifier" if kind == "model" else "username")
    verb = "get" if resource_path.endswith("/search") else method.lower()
    if kind == "user":
        if resource_id == "me":
            resource_id = user.username
        return resource_id == user.username and verb in {"get", "put", "delete", "post"}
    if verb == "post":
        return True  # the "create-model" group grants POST on every model resource
    return resource_id in user.models and verb in {"get", "put", "delete"}
