"""Small pure coercions from backend strings to typed values, shared by every normalizer.

Each helper treats missing, empty and ``None`` alike (-> None or ``()``) and raises ValueError only
for values that are present but not of the expected form; normalizers turn that into BackendError.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

__all__ = [
    "as_list",
    "opt_bool",
    "opt_datetime",
    "opt_float",
    "opt_int",
    "opt_str",
    "split_csv",
    "text",
    "unescape_html",
]

_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def text(value: Any) -> str | None:
    """Return the text content of an xmltodict node (a str, or a dict with ``#text``), else None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("#text")
        return inner if isinstance(inner, str) else None
    if isinstance(value, int | float):
        return str(value)
    return None


def opt_str(value: Any, *, strip: bool = True) -> str | None:
    """Return a non-empty string or None; ``strip=False`` keeps significant whitespace."""
    raw = text(value)
    if raw is None:
        return None
    out = raw.strip() if strip else raw
    if not out.strip():
        return None
    return out


def opt_int(value: Any) -> int | None:
    """Parse an integer written as ``"6"`` or ``"6.0"``; None when empty."""
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    raw = opt_str(value)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        as_float = float(raw)
        if not as_float.is_integer():
            raise ValueError(f"expected an integer, got {raw!r}") from None
        return int(as_float)


def opt_float(value: Any) -> float | None:
    """Parse a float; None for empty, ``"null"`` and ``"NaN"``-free absence."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    raw = opt_str(value)
    if raw is None or raw.lower() in {"null", "none"}:
        return None
    return float(raw)


def opt_bool(value: Any) -> bool | None:
    """Parse ``"true"``/``"false"`` (any case, also 1/0); None when empty."""
    if isinstance(value, bool):
        return value
    raw = opt_str(value)
    if raw is None:
        return None
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def opt_datetime(value: Any) -> datetime | None:
    """Parse ``YYYY-MM-DDTHH:MM:SS`` or ``YYYY-MM-DD HH:MM:SS`` (optionally with fractions or a zone).

    Never invents a zone: a naive timestamp stays naive. ``0000-00-00 00:00:00`` (MySQL's zero date)
    is None.
    """
    raw = opt_str(value)
    if raw is None or raw.startswith("0000-00-00"):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: None -> [], a scalar or dict -> [value], a list unchanged."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def split_csv(values: Iterable[Any]) -> tuple[str, ...]:
    """Flatten values that may each be comma-joined (``"Alice, Bob"``) into stripped, unquoted parts.

    This is OpenML v2's reference behaviour for creators, contributors and target attributes.
    """
    out: list[str] = []
    for value in values:
        raw = opt_str(value)
        if raw is None:
            continue
        for part in raw.split(","):
            cleaned = part.strip().strip('"').strip()
            if cleaned:
                out.append(cleaned)
    return tuple(out)


_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


def unescape_html(value: str | None) -> str | None:
    """Decode one more level of HTML entities (double-escaped descriptions and error messages)."""
    if value is None or "&" not in value or _ENTITY.search(value) is None:
        return value
    return html.unescape(value)


def parse_array(raw: str | None) -> Any:
    """Decode ``array_data`` when it is JSON (``[0.9,0.8]``), else keep the backend's string."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
