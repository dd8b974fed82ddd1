"""Request-body validation with marshmallow 3's messages, for the schemas vantage6's endpoints declare.

``validate(body, schema)`` returns marshmallow's error dict (``{"name": ["Missing data for required field."]}``,
``{"foo": ["Unknown field."]}``, ``{"organization_ids": {"0": ["Not a valid integer."]}}``), empty when valid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.vantage6.emulator_store import RUN_STATUSES

__all__ = ["SCHEMAS", "Field", "validate", "validate_password"]

Check = Callable[[Any], str | None]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9._-]+$")
_TRUTHY = {True, "1", "true", "True", "TRUE", "t", "T", "on", "On", "ON", "y", "Y", "yes", "Yes", "YES"}
_FALSY = {False, "0", "false", "False", "FALSE", "f", "F", "off", "Off", "OFF", "n", "N", "no", "No", "NO"}


@dataclass(frozen=True, slots=True)
class Field:
    kind: str
    required: bool = False
    checks: tuple[Check, ...] = ()


def _min1(value: Any) -> str | None:
    return "Must be greater than or equal to 1." if value < 1 else None


def _name(value: str) -> str | None:
    if not value:
        return "Name cannot be empty"
    if value.isnumeric():
        return "Name cannot a number"
    if len(value) > 128:
        return "Name cannot be longer than 128 characters"
    return None


def _username(value: str) -> str | None:
    problem = _name(value)
    if problem:
        return problem
    if len(value) < 3:
        return "Length must be between 3 and 128."
    if _USERNAME.match(value) is None:
        return (f"Username {value} is invalid. Only letters, numbers, hyphens and underscores are allowed, and it "
                "should start with a letter.")
    return None


def validate_password(pw: str) -> str | None:
    """vantage6's password policy; the message of the first rule broken, or None."""
    if len(pw) < 8:
        return "Password too short: use at least 8 characters with mixed lowercase, uppercase, numbers and special " \
               "characters"
    if len(pw) > 128:
        return "Password too long: use at most 128 characters"
    if re.search("[0-9]", pw) is None:
        return "Password should contain at least one number"
    if re.search("[A-Z]", pw) is None:
        return "Password should contain at least one uppercase letter"
    if re.search("[a-z]", pw) is None:
        return "Password should contain at least one lowercase letter"
    if pw.isalnum():
        return "Password should contain at least one special character"
    return None


def _status(value: str) -> str | None:
    return None if value in RUN_STATUSES else f"Must be one of: {', '.join(RUN_STATUSES)}."


def _org_ids(value: list[int]) -> str | None:
    if not all(i > 0 for i in value):
        return "Organization ids must be greater than 0"
    if len(value) != len(set(value)):
        return "Organization ids must be unique"
    return None if value else "At least one organization id is required"


def _min_len1(value: str) -> str | None:
    return "Shorter than minimum length 1." if not value else None


def _max_len1024(value: str) -> str | None:
    return "Longer than maximum length 1024." if len(value) > 1024 else None


def _task_orgs(value: list[dict[str, Any]]) -> str | None:
    if not value:
        return "At least one organization is required"
    if any("id" not in org for org in value):
        return "Organization id is required for each organization"
    return None


_DB_KEYS = "{'label', 'arguments', 'preprocessing', 'query', 'sheet_name'}"  # a set's repr upstream: order varies


def _databases(value: list[dict[str, Any]]) -> str | None:
    for db in value:
        if "label" not in db:
            return "Database label is required for each database"
        if "preprocessing" in db:
            if not isinstance(db["preprocessing"], list):
                return "Database preprocessing must be a list of dictionaries"
            for step in db["preprocessing"]:
                if "function" not in step:
                    return f"Database preprocessing {step} is missing a 'function'"
        if "arguments" in db and not isinstance(db["arguments"], dict):
            return "Database arguments must be a dict"
        if not set(db) <= {"label", "arguments", "preprocessing", "query", "sheet_name"}:
            return f"Database {db} contains unknown keys. Allowed keys are {_DB_KEYS}."
    return None


_NAME = Field("str", True, (_name,))
SCHEMAS: Mapping[str, Mapping[str, Field]] = {
    "token_user": {"username": Field("str", True), "password": Field("str", True), "mfa_code": Field("str")},
    "token_node": {"api_key": Field("str", True)},
    "organization": {"name": _NAME, "address1": Field("str"), "address2": Field("str"), "zipcode": Field("str"),
                     "country": Field("str"), "domain": Field("str"), "public_key": Field("str")},
    "collaboration": {"name": _NAME, "organization_ids": Field("list_int", True, (_org_ids,)),
                      "encrypted": Field("bool", True)},
    "node": {"name": Field("str", False, (_name,)), "collaboration_id": Field("int", True, (_min1,)),
             "organization_id": Field("int", False, (_min1,)), "ip": Field("str"), "clear_ip": Field("bool")},
    "user": {"username": Field("str", True, (_username,)), "email": Field("email", True),
             "firstname": Field("str"), "lastname": Field("str"), "organization_id": Field("int", False, (_min1,)),
             "roles": Field("list_int"), "rules": Field("list_int"),
             "password": Field("str", True, (validate_password,))},
    "task": {"name": Field("str"), "description": Field("str", False, (_max_len1024,)),
             "image": Field("str", True, (_min_len1,)),
             "collaboration_id": Field("int", False, (_min1,)), "study_id": Field("int", False, (_min1,)),
             "store_id": Field("int", False, (_min1,)), "server_url": Field("str"),
             "organizations": Field("list_dict", True, (_task_orgs,)),
             "databases": Field("list_dict_or_none", False, (_databases,))},
    "run": {"started_at": Field("datetime"), "finished_at": Field("datetime"), "log": Field("str"),
            "result": Field("str"), "status": Field("str", False, (_status,))},
    "kill": {"id": Field("int", True, (_min1,))},
}


def _coerce(kind: str, value: Any) -> tuple[Any, Any]:
    """(converted value, error) for one field value."""
    if kind in ("str", "email"):
        if not isinstance(value, str):
            return None, "Not a valid string."
        if kind == "email" and not _EMAIL.match(value):
            return None, "Not a valid email address."
        return value, None
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            return None, "Not a valid integer."
        try:
            return int(value), None
        except (TypeError, ValueError):
            return None, "Not a valid integer."
    if kind == "bool":
        try:
            if value in _TRUTHY:
                return True, None
            if value in _FALSY:
                return False, None
        except TypeError:
            pass
        return None, "Not a valid boolean."
    if kind == "datetime":
        try:
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")), None
        except ValueError:
            return None, "Not a valid datetime."
    if kind == "list_dict_or_none" and value is None:
        return None, None
    if not isinstance(value, list):
        return None, "Not a valid list."
    item_kind = "int" if kind == "list_int" else "dict"
    errors: dict[str, list[str]] = {}
    out = []
    for index, item in enumerate(value):
        if item_kind == "dict":
            if not isinstance(item, dict):
                errors[str(index)] = ["Not a valid mapping type."]
            out.append(item)
        else:
            converted, err = _coerce("int", item)
            if err:
                errors[str(index)] = [err]
            out.append(converted)
    return (None, errors) if errors else (out, None)


def validate(body: Any, schema: str, *, partial: bool = False) -> dict[str, Any]:
    """marshmallow's ``Schema().validate(body, partial=partial)`` for vantage6's input schema ``schema``."""
    fields = SCHEMAS[schema]
    if not isinstance(body, dict):
        return {"_schema": ["Invalid input type."]}
    errors: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in body:
            if spec.required and not partial:
                errors[name] = ["Missing data for required field."]
            continue
        if body[name] is None and spec.kind != "list_dict_or_none":
            errors[name] = ["Field may not be null."]
            continue
        value, err = _coerce(spec.kind, body[name])
        if err:
            errors[name] = err if isinstance(err, dict) else [err]
            continue
        for check in spec.checks:
            problem = check(value) if value is not None else None
            if problem:
                errors[name] = [problem]
                break
    for name in body:
        if name not in fields:
            errors[name] = ["Unknown field."]
    if not errors and schema == "task" and "collaboration_id" not in body and "study_id" not in body:
        errors["_schema"] = ["Collaboration_id or study_id is required"]  # a schema validator: after the fields
    return errors
