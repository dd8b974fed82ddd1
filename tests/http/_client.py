"""A raw HTTP client for the protocol tests: exact bytes and headers in, status, headers and body out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from tests.helpers import RunningGateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def error(self) -> dict[str, Any]:
        """The one error of a GraphQL-shaped error body (asserts there is exactly one, and no data)."""
        body = self.body
        assert "data" not in body, body
        (error,) = body["errors"]
        return error


async def call(gateway: RunningGateway, method: str = "POST", *, json_body: Any = None, data: Any = None,
               headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
               url: str | None = None) -> Reply:
    """Send one request; ``json_body`` is encoded with the JSON content type unless headers say otherwise."""
    sent = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body)
        sent = {**JSON_HEADERS, **sent}
    session: aiohttp.ClientSession = gateway.session
    async with session.request(method, url or gateway.url, data=data, headers=sent, params=params,
                               skip_auto_headers=["Content-Type"] if "Content-Type" not in sent else ()) as resp:
        return Reply(resp.status, resp.headers, await resp.text())


def assert_clean(reply: Reply, *hidden: str) -> None:
    """No traceback, no Python internals and none of ``hidden`` (internal URLs) in a reply."""
    for needle in ("Traceback", 'File "', "Exception", "RecursionError", *hidden):
        assert needle not in reply.text, (needle, reply.text[:500])
