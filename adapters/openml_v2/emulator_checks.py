"""RFC 9457 problems and FastAPI-style request validation of the v2 emulator (pure, no HTTP).

Problems carry the server's type slug, HTTP status and legacy code (always a **string**, as the server
sends it). Validation collects every failing field first and answers one 422 whose ``errors`` list has
pydantic's shape (``type``, ``loc``, ``msg``, ``input``), without a ``code``, as the server does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["PROBLEMS", "Checks", "Problem"]

_PREFIX = "https://openml.org/problems/"

# slug -> (title, HTTP status)
PROBLEMS: dict[str, tuple[str, int]] = {
    "dataset-not-found": ("Dataset Not Found", 404), "dataset-no-access": ("Dataset Access Denied", 403),
    "dataset-no-data-file": ("Dataset Data File Missing", 412),
    "dataset-not-processed": ("Dataset Not Processed", 412),
    "dataset-no-features": ("Dataset Features Not Available", 412),
    "authentication-required": ("Authentication Required", 401),
    "authentication-failed": ("Authentication Failed", 401),
    "tag-already-exists": ("Tag Already Exists", 409), "tag-not-found": ("Tag Not Found", 404),
    "tag-not-owned": ("Tag Not Owned", 403), "no-results": ("No Results Found", 404),
    "study-not-found": ("Study Not Found", 404), "task-not-found": ("Task Not Found", 404),
    "task-type-not-found": ("Task Type Not Found", 404), "flow-not-found": ("Flow Not Found", 404),
    "setup-not-found": ("Setup Not Found", 404), "run-not-found": ("Run Not Found", 404),
    "run-trace-not-found": ("Run Trace Not Found", 404), "internal-error": ("Internal Server Error", 500),
}


class Problem(Exception):
    """An error answer: ``application/problem+json`` with the slug's title and status."""

    def __init__(self, slug: str, detail: str, code: int | str | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(slug, detail)
        self.slug = slug
        self.detail = detail
        self.code = code
        self.errors = errors
        self.status = 422 if slug == "validation-error" else PROBLEMS[slug][1]

    def body(self) -> dict[str, Any]:
        """The JSON body the server writes for this problem."""
        if self.slug == "validation-error":
            return {"type": _PREFIX + self.slug, "title": "Validation Error", "status": 422,
                    "detail": self.detail, "errors": self.errors or []}
        out: dict[str, Any] = {"type": _PREFIX + self.slug, "title": PROBLEMS[self.slug][0], "status": self.status,
                               "detail": self.detail}
        if self.code is not None:
            out["code"] = str(self.code)
        return out


TAG = re.compile(r"^[\w\-\.]+$")
CASUAL = re.compile(r"^[\w\-\.\(\),]+$")
RANGE = re.compile(r"^(\d+)(\.\.\d+)?$")


class Checks:
    """Collects pydantic-like validation errors for one request; ``done()`` raises them as one 422."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def fail(self, kind: str, loc: Iterable[str | int], msg: str, value: Any, **ctx: Any) -> None:
        error: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
        if ctx:
            error["ctx"] = ctx
        self.errors.append(error)

    def done(self) -> None:
        if self.errors:
            raise Problem("validation-error", "Input validation failed.", errors=self.errors)

    def integer(self, loc: tuple[str | int, ...], value: Any, *, gt: int | None = None, ge: int | None = None,
                le: int | None = None) -> int | None:
        """Lax int parsing (``5``, ``5.0``, ``"5"``) plus bounds; None (and an error) when invalid."""
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
                isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip())):
            number = int(value)
        if number is None:
            self.fail("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer"
                      if isinstance(value, str) else "Input should be a valid integer", value)
            return None
        for bound, ok, word, key in ((gt, lambda b: number > b, "greater than", "gt"),
                                     (ge, lambda b: number >= b, "greater than or equal to", "ge"),
                                     (le, lambda b: number <= b, "less than or equal to", "le")):
            if bound is not None and not ok(bound):
                kind = {"gt": "greater_than", "ge": "greater_than_equal", "le": "less_than_equal"}[key]
                self.fail(kind, loc, f"Input should be {word} {bound}", value, **{key: bound})
                return None
        return number

    def text(self, loc: tuple[str | int, ...], value: Any, pattern: re.Pattern[str], max_length: int) -> str | None:
        """A constrained string (TagString, CasualString128, IntegerRange)."""
        if not isinstance(value, str):
            self.fail("string_type", loc, "Input should be a valid string", value)
            return None
        if len(value) > max_length:
            self.fail("string_too_long", loc, f"String should have at most {max_length} characters", value,
                      max_length=max_length)
            return None
        if not pattern.match(value):
            self.fail("string_pattern_mismatch", loc, f"String should match pattern '{pattern.pattern}'", value,
                      pattern=pattern.pattern)
            return None
        return value

    def ids(self, loc: tuple[str | int, ...], value: Any, *, min_length: int = 0) -> list[int] | None:
        """A list of positive ids."""
        if not isinstance(value, list):
            self.fail("list_type", loc, "Input should be a valid list", value)
            return None
        if len(value) < min_length:
            self.fail("too_short", loc, f"List should have at least {min_length} item after validation, not 0",
                      value, field_type="List", min_length=min_length, actual_length=len(value))
            return None
        out = [self.integer((*loc, i), v, gt=0) for i, v in enumerate(value)]
        return None if any(v is None for v in out) else [v for v in out if v is not None]

    def choice(self, loc: tuple[str | int, ...], value: Any, choices: tuple[str, ...]) -> str | None:
        if value not in choices:
            listed = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
            self.fail("enum", loc, f"Input should be {listed}", value, expected=listed)
            return None
        return str(value)
