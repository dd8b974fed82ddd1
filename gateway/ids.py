"""Global ids: ``"<source>:<kind>:<native id>"`` (``openml:run:10437``), built and parsed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from gateway.errors import BadUserInputError

__all__ = ["GlobalId", "encode_part", "global_id", "parse_global_id", "parse_int_id"]

SOURCES = frozenset({"openml", "mlte", "vantage6", "pytupli"})


def encode_part(part: str) -> str:
    """Percent-encode ``%``, ``/`` and ``:`` inside one segment of a native id."""
    return quote(part, safe=" !\"#$&'()*+,;<=>?@[\\]^_`{|}~.-")


@dataclass(frozen=True, slots=True)
class GlobalId:
    """A parsed global id."""

    source: str
    kind: str
    native: str

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.native}"


def global_id(source: str, kind: str, native: object) -> str:
    """Return the global id string for a native id (ints and strings alike)."""
    return f"{source}:{kind}:{native}"


def parse_global_id(value: str, *, kind: str | tuple[str, ...] | None = None, source: str | None = None) -> GlobalId:
    """Parse ``value``; raise BadUserInputError when it is malformed or of another kind or source.

    Returns the GlobalId with the native part still encoded as it travels (segments of composite
    native ids are split by the caller, then decoded with ``urllib.parse.unquote``).
    """
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise BadUserInputError(
            f"Invalid id {value!r}: expected a global id like 'openml:run:100' (source:kind:native id)."
        )
    src, knd, native = parts
    if src not in SOURCES:
        raise BadUserInputError(f"Invalid id {value!r}: unknown source {src!r}.")
    if source is not None and src != source:
        raise BadUserInputError(f"Invalid id {value!r}: expected a {source} id.")
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and knd not in kinds:
        wanted = " or ".join(repr(k) for k in kinds)
        raise BadUserInputError(f"Invalid id {value!r}: expected an id of kind {wanted}.")
    return GlobalId(src, knd, native)


def parse_int_id(value: str, *, kind: str | tuple[str, ...], source: str = "openml") -> int:
    """Parse a global id whose native part is a natural number; raise BadUserInputError otherwise."""
    gid = parse_global_id(value, kind=kind, source=source)
    native = unquote(gid.native)
    if not native.isdigit() or len(native) > 18:
        raise BadUserInputError(f"Invalid id {value!r}: the native id must be a positive integer.")
    return int(native)
