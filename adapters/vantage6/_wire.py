"""Request building for the vantage6 client: query strings, page checks, task inputs, token refusals (pure)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from adapters.vantage6 import normalize as nz
from adapters.vantage6.errors import BACKEND, error_for
from gateway.errors import BadUserInputError
from gateway.http import BackendResponse

__all__ = ["Params", "check_page", "encode_input", "opt_params", "query", "refused_token"]

Params = Sequence[tuple[str, str | int]]


def query(path: str, params: Params) -> str:
    """``path?a=1&ids=2&ids=3`` (repeated keys kept, order kept: vantage6 reads ``ids`` as a list)."""
    pairs = [(k, str(v)) for k, v in params]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def check_page(page: int, per_page: int) -> None:
    """Raise BadUserInputError for a page or page size vantage6 would refuse."""
    # vantage6 answers 500 to page=0 and per_page<=0 (and retries would repeat it): refuse them here.
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise BadUserInputError(f"page must be an integer >= 1, not {page!r}", backend=BACKEND)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise BadUserInputError(f"per_page must be an integer >= 1, not {per_page!r}", backend=BACKEND)


def encode_input(value: Any) -> str:
    """A task input as vantage6 wants it: a ``str`` is sent as is (already base64), ``bytes`` are base64
    encoded, anything else is JSON then base64 (what unencrypted collaborations expect)."""
    if isinstance(value, str):
        return value
    raw = value if isinstance(value, bytes | bytearray) else json.dumps(value).encode("utf-8")
    return base64.b64encode(bytes(raw)).decode("ascii")


def opt_params(**values: int | str | None) -> list[tuple[str, str | int]]:
    """The given (not None) values as query pairs, in argument order."""
    return [(name, value) for name, value in values.items() if value is not None]


def refused_token(response: BackendResponse) -> bool:
    """A refusal of the token itself (expired, bad signature after a server restart), not of a permission."""
    if response.status == 422:
        return True
    if response.status != 401:
        return False
    err = nz.error_from_response(response.status, response.body, credential_sent=True)
    return err.code == error_for(401, "Token has expired", credential_sent=True).code
