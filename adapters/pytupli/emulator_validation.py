"""Request validation for the pytupli emulator, answering with FastAPI/pydantic 2's exact 422 error items.

Covers the request models pytupli's routes declare (``UserCredentials``, ``BenchmarkQuery``, ``Episode``,
``BaseFilter``/``EpisodesListRequest``, ``Group``, ``GroupMembershipQuery``) and query parameters. Each error
item is ``{"type", "loc", "msg", "input"[, "ctx"]}`` as the real server sends it (see the catalogue).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ARTIFACT_METADATA",
    "BASE_FILTER",
    "BENCHMARK_QUERY",
    "EPISODE",
    "EPISODES_LIST",
    "GROUP",
    "GROUP_MEMBERSHIP_QUERY",
    "USER_CREDENTIALS",
    "RequestInvalid",
    "check_query",
    "missing_fields",
    "parse_json_body",
    "validate_body",
]

Loc = list[str | int]
Errors = list[dict[str, Any]]
_REQUIRED = object()
_FILTER_TYPES = ("EQ", "GEQ", "LEQ", "GT", "LT", "NE", "IN", "AND", "OR")
_EXPECTED = ", ".join(f"'{t}'" for t in _FILTER_TYPES[:-1]) + f" or '{_FILTER_TYPES[-1]}'"
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class RequestInvalid(Exception):
    """The request fails validation; ``errors`` is FastAPI's ``detail`` list."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(f"{len(errors)} validation errors")
        self.errors = errors


def _err(kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        out["ctx"] = ctx
    return out


Check = Callable[[Any, Loc], tuple[Any, Errors]]


def _str(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, str):
        return value, []
    return value, [_err("string_type", loc, "Input should be a valid string", value)]


def _opt_str(value: Any, loc: Loc) -> tuple[Any, Errors]:
    return (None, []) if value is None else _str(value, loc)


def _dict(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, dict):
        return value, []
    return value, [_err("dict_type", loc, "Input should be a valid dictionary", value)]


def _any(value: Any, loc: Loc) -> tuple[Any, Errors]:
    return value, []


def _bool(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, bool):
        return value, []
    if isinstance(value, int) and value in (0, 1):
        return bool(value), []
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE, []
    if isinstance(value, str | int | float):
        return value, [_err("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value)]
    return value, [_err("bool_type", loc, "Input should be a valid boolean", value)]


def _str_list(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if value is None:
        return None, []
    if not isinstance(value, list):
        return value, [_err("list_type", loc, "Input should be a valid list", value)]
    errors = [e for i, item in enumerate(value) for e in _str(item, [*loc, i])[1]]
    return value, errors


Fields = tuple[tuple[str, Check, Any], ...]


def _model(name: str, fields: Fields, after: Callable[[dict[str, Any], Any, Loc], Errors] | None = None) -> Check:
    def check(value: Any, loc: Loc) -> tuple[Any, Errors]:
        if not isinstance(value, dict):
            if loc == ["body"]:
                return value, [_err("model_attributes_type", loc,
                                    "Input should be a valid dictionary or object to extract fields from", value)]
            return value, [_err("model_type", loc, f"Input should be a valid dictionary or instance of {name}", value,
                                {"class_name": name})]
        out: dict[str, Any] = {}
        errors: Errors = []
        for key, field_check, default in fields:
            if key not in value:
                if default is _REQUIRED:
                    errors.append(_err("missing", [*loc, key], "Field required", value))
                else:
                    out[key] = default() if callable(default) else default
                continue
            out[key], errs = field_check(value[key], [*loc, key])
            errors.extend(errs)
        if not errors and after is not None:
            errors = after(out, value, loc)
        return out, errors

    return check


def _list_of(check: Check, nullable: bool = False) -> Check:
    def run(value: Any, loc: Loc) -> tuple[Any, Errors]:
        if value is None and nullable:
            return None, []
        if not isinstance(value, list):
            return value, [_err("list_type", loc, "Input should be a valid list", value)]
        out, errors = [], []
        for index, item in enumerate(value):
            item_out, errs = check(item, [*loc, index])
            out.append(item_out)
            errors.extend(errs)
        return out, errors

    return run


def _filter_type(value: Any, loc: Loc) -> tuple[Any, Errors]:
    if isinstance(value, str) and value in _FILTER_TYPES:
        return value, []
    return value, [_err("enum", loc, f"Input should be {_EXPECTED}", value, {"expected": _EXPECTED})]


def _filter_after(out: dict[str, Any], raw: Any, loc: Loc) -> Errors:
    if out["type"] not in ("AND", "OR") and (out["key"] is None or out["value"] is None):
        return [_err("value_error", loc, f"Value error, FilterType.{out['type']} filter must have key and value set",
                     raw, {"error": {}})]
    return []


def _base_filter(value: Any, loc: Loc) -> tuple[Any, Errors]:
    return _BASE_FILTER_MODEL(value, loc)


_FILTER_FIELDS: Fields = (
    ("type", _filter_type, "OR"), ("key", _opt_str, None), ("value", _any, None),
    ("filters", _list_of(_base_filter, nullable=True), list),
)
_BASE_FILTER_MODEL = _model("BaseFilter", _FILTER_FIELDS, _filter_after)
BASE_FILTER = _BASE_FILTER_MODEL
EPISODES_LIST = _model("EpisodesListRequest", (*_FILTER_FIELDS, ("include_tuples", _bool, False)), _filter_after)
USER_CREDENTIALS = _model("UserCredentials", (("username", _str, _REQUIRED), ("password", _str, _REQUIRED)))
BENCHMARK_QUERY = _model("BenchmarkQuery", (
    ("hash", _str, _REQUIRED), ("serialized", _str, _REQUIRED),
    ("metadata", _model("BenchmarkMetadata", (
        ("name", _str, _REQUIRED), ("description", _str, ""), ("difficulty", _opt_str, None),
        ("version", _opt_str, None), ("extra", _dict, dict))), _REQUIRED),
))
_RL_TUPLE = _model("RLTuple", (
    ("state", _any, _REQUIRED), ("action", _any, _REQUIRED), ("reward", _any, _REQUIRED), ("info", _dict, dict),
    ("terminal", _bool, False), ("timeout", _bool, False),
))
EPISODE = _model("Episode", (
    ("benchmark_id", _str, _REQUIRED), ("metadata", _dict, _REQUIRED), ("tuples", _list_of(_RL_TUPLE), _REQUIRED),
))
ARTIFACT_METADATA = _model("ArtifactMetadata", (
    ("name", _str, _REQUIRED), ("description", _str, ""), ("benchmark_id", _opt_str, None), ("extra", _dict, dict),
))
GROUP = _model("Group", (("name", _str, _REQUIRED), ("description", _opt_str, None)))
GROUP_MEMBERSHIP_QUERY = _model("GroupMembershipQuery", (
    ("group_name", _str, _REQUIRED),
    ("members", _list_of(_model("GroupMembership", (("user", _str, _REQUIRED), ("roles", _str_list, None)))),
     _REQUIRED),
))


def parse_json_body(raw: bytes) -> Any:
    """The JSON body (None when empty); RequestInvalid with FastAPI's ``json_invalid`` item otherwise."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestInvalid([_err("json_invalid", ["body", exc.pos], "JSON decode error", {},
                                   {"error": exc.msg})]) from exc
    except UnicodeDecodeError as exc:
        raise RequestInvalid([_err("json_invalid", ["body", exc.start], "JSON decode error", {},
                                   {"error": "Invalid UTF-8"})]) from exc


def validate_body(check: Check, body: Any, *, required: bool = True, prior: Errors | None = None) -> dict[str, Any]:
    """Validate a JSON body against a model (None: missing, or the default for optional bodies)."""
    errors = list(prior or [])
    if body is None:
        if required:
            errors.append(_err("missing", ["body"], "Field required", None))
            raise RequestInvalid(errors)
        body = {}
    out, errs = check(body, ["body"])
    errors.extend(errs)
    if errors:
        raise RequestInvalid(errors)
    return out


def check_query(query: Mapping[str, str], *names: str) -> dict[str, str]:
    """The required query parameters ``names``; RequestInvalid naming every absent one."""
    errors = [_err("missing", ["query", n], "Field required", None) for n in names if n not in query]
    if errors:
        raise RequestInvalid(errors)
    return {n: query[n] for n in names}


def missing_fields(**values: Any) -> None:
    """RequestInvalid for required form fields (``name=value``) that are absent (None)."""
    errors = [_err("missing", ["body", name], "Field required", None)
              for name, value in values.items() if value is None]
    if errors:
        raise RequestInvalid(errors)
