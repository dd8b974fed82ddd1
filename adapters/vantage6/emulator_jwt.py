"""HS256 JWTs as Flask-JWT-Extended 4.7 / PyJWT 2 make and check them for vantage6, errors included.

Tokens carry vantage6's claims (``sub`` an int, ``type`` access|refresh, ``client_type``, ``roles``), so the
official client can decode them. ``bearer`` reproduces the header parsing and ``decode`` the decoding order and
messages of those libraries: a garbage token is 422 ``Not enough segments`` / ``Invalid header padding`` /
``Invalid header string: ...``, a bad signature 422, an expired token 401 ``Token has expired``, a refresh token
where an access token belongs 422 ``Only non-refresh tokens are allowed`` (and the reverse).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["JwtError", "bearer", "decode", "encode", "mint"]

_HEADER = {"alg": "HS256", "typ": "JWT"}


class JwtError(Exception):
    """A refused token: the HTTP status and Flask-JWT-Extended's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(segment: bytes) -> bytes:
    rem = len(segment) % 4
    if rem > 0:
        segment += b"=" * (4 - rem)
    return base64.urlsafe_b64decode(segment)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def encode(payload: Mapping[str, Any], secret: str) -> str:
    """Sign ``payload`` with HS256."""
    signing_input = f"{_b64(_compact(_HEADER))}.{_b64(_compact(dict(payload)))}".encode("ascii")
    signature = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode('ascii')}.{_b64(signature)}"


def mint(secret: str, *, sub: int, kind: str, client_type: str, roles: list[str], ttl: float,
         now: float | None = None) -> str:
    """A vantage6 token (``kind`` is ``access`` or ``refresh``) valid for ``ttl`` seconds."""
    issued = int(now if now is not None else time.time())
    return encode({"fresh": False, "iat": issued, "jti": str(uuid.uuid4()), "type": kind, "sub": sub,
                   "nbf": issued, "csrf": str(uuid.uuid4()), "exp": issued + int(ttl), "client_type": client_type,
                   "roles": roles}, secret)


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization`` header, or the JwtError Flask-JWT-Extended raises."""
    header = (authorization or "").strip().strip(",")
    if not header:
        raise JwtError(401, "Missing Authorization Header")
    candidates = [part.strip() for part in header.split(",") if part.strip().startswith("Bearer")]
    if not candidates:
        raise JwtError(401, "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'")
    parts = candidates[0].split()
    if len(parts) != 2 or parts[0] != "Bearer":
        raise JwtError(422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'")
    return parts[1]


def decode(token: str, secret: str, *, want: str, now: float | None = None) -> dict[str, Any]:
    """Verify ``token`` and return its claims; ``want`` is ``access`` or ``refresh``."""
    raw = token.encode("utf-8")
    try:
        signing_input, crypto = raw.rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
    except ValueError:
        raise JwtError(422, "Not enough segments") from None
    try:
        header_data = _unb64(header_segment)
    except (TypeError, binascii.Error):
        raise JwtError(422, "Invalid header padding") from None
    try:
        header = json.loads(header_data)
    except ValueError as exc:
        raise JwtError(422, f"Invalid header string: {exc}") from None
    if not isinstance(header, dict):
        raise JwtError(422, "Invalid header string: must be a json object")
    try:
        payload_data = _unb64(payload_segment)
    except (TypeError, binascii.Error):
        raise JwtError(422, "Invalid payload padding") from None
    try:
        signature = _unb64(crypto)
    except (TypeError, binascii.Error):
        raise JwtError(422, "Invalid crypto padding") from None
    if header.get("alg") != "HS256":
        raise JwtError(422, "The specified alg value is not allowed")
    expected = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise JwtError(422, "Signature verification failed")
    try:
        claims = json.loads(payload_data)
    except ValueError as exc:
        raise JwtError(422, f"Invalid payload string: {exc}") from None
    if not isinstance(claims, dict):
        raise JwtError(422, "Invalid payload string: must be a json object")
    moment = now if now is not None else time.time()
    if isinstance(claims.get("exp"), int | float) and claims["exp"] <= moment:
        raise JwtError(401, "Token has expired")
    if want == "access" and claims.get("type") == "refresh":
        raise JwtError(422, "Only non-refresh tokens are allowed")
    if want == "refresh" and claims.get("type") != "refresh":
        raise JwtError(422, "Only refresh tokens are allowed")
    return claims
