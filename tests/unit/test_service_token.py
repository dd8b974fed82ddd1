"""Service tokens: one login shared by concurrent requests, and a late refusal of an old token is harmless."""

from __future__ import annotations

import asyncio

from adapters._auth import ServiceToken, TokenPair


async def test_a_late_refusal_of_an_older_token_keeps_the_newer_one() -> None:
    issued = 0

    async def login() -> TokenPair:
        nonlocal issued
        issued += 1
        await asyncio.sleep(0.01)
        return TokenPair(access=f"token-{issued}", expires_at=None)

    service = ServiceToken(login)
    first = await asyncio.gather(*(service.get() for _ in range(5)))
    assert first == ["token-1"] * 5 and service.logins == 1  # concurrent requests share one login
    # the backend restarted with a new secret: every request holding token-1 is refused
    service.invalidate("token-1")
    assert await service.get() == "token-2"
    for _ in range(4):  # the other four refusals arrive after the new login
        service.invalidate("token-1")
    assert await service.get() == "token-2" and service.logins == 2
    service.invalidate("token-2")
    assert await service.get() == "token-3" and service.logins == 3
