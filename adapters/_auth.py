"""Service-account tokens: obtained once, cached, refreshed before expiry, one login for concurrent callers.

Used by the JSON adapters (MLTE password grant, vantage6 ``/token/user`` + refresh, pytupli JWT + refresh)
when no caller token is given and settings hold a service account. Tokens never leave this object except
as the header value the adapter sends.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

__all__ = ["ServiceToken", "TokenPair", "jwt_expiry"]


def jwt_expiry(token: str) -> float | None:
    """Return the ``exp`` claim of a JWT (epoch seconds) without verifying it, or None if absent or not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, the refresh token that renews it (if any), and when the access token expires."""

    access: str
    refresh: str | None = None
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"TokenPair(expires_at={self.expires_at!r}, refresh={'yes' if self.refresh else 'no'})"


Login = Callable[[], Awaitable[TokenPair]]
Refresh = Callable[[str], Awaitable[TokenPair]]


class ServiceToken:
    """A cached service token; ``get`` logs in or refreshes ``margin`` seconds before expiry."""

    def __init__(self, login: Login, refresh: Refresh | None = None, *, margin: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._login = login
        self._refresh = refresh
        self._margin = margin
        self._clock = clock
        self._pair: TokenPair | None = None
        self._lock = asyncio.Lock()
        self.logins = 0
        self.refreshes = 0

    def _fresh(self, pair: TokenPair | None) -> bool:
        if pair is None:
            return False
        return pair.expires_at is None or pair.expires_at - self._margin > self._clock()

    async def get(self) -> str:
        """Return a valid access token, logging in or refreshing first when needed."""
        pair = self._pair
        if self._fresh(pair):
            assert pair is not None
            return pair.access
        async with self._lock:
            if self._fresh(self._pair):
                assert self._pair is not None
                return self._pair.access
            old = self._pair
            new: TokenPair | None = None
            if old is not None and old.refresh and self._refresh is not None:
                try:
                    new = await self._refresh(old.refresh)
                    self.refreshes += 1
                except Exception:  # an expired or revoked refresh token: log in again
                    new = None
            if new is None:
                new = await self._login()
                self.logins += 1
            if new.expires_at is None:  # read the JWT's exp once here, not on every get()
                new = replace(new, expires_at=jwt_expiry(new.access))
            self._pair = new
            return new.access

    def invalidate(self, refused: str) -> None:
        """Forget the token the backend refused. A late refusal of an older token (a request that used it
        before another one logged in again) leaves the newer token alone: no extra login per such request."""
        if self._pair is not None and self._pair.access == refused:
            self._pair = None
