"""Pure normalizers: vantage6 JSON bodies -> frozen records (no I/O).

Every ``*_from_json`` takes one decoded JSON object and returns a record following design.md: ids as ints,
naive timestamps parsed (zero microseconds are omitted by the server; both forms are read), statuses in lower
snake case, empty strings as None, HATEOAS link objects (``{"id", "link", "methods"}``) reduced to ids, and
unknown keys kept in ``raw_extra``. A body of the wrong shape raises ``BackendError`` (through ``_guard``);
secrets the server may echo (a node's ``api_key``, a user's ``otp_secret``) are never kept.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from adapters._coerce import opt_bool, opt_datetime, opt_int, opt_str
from adapters.records.vantage6 import (
    CollaborationRecord,
    OrganizationRecord,
    Vantage6NodeRecord,
    Vantage6Page,
    Vantage6ResultRecord,
    Vantage6RunRecord,
    Vantage6TaskRecord,
    Vantage6TokenPair,
    Vantage6UserRecord,
)
from adapters.vantage6.errors import BACKEND, error_for
from gateway.errors import BackendError, GatewayError

__all__ = [
    "collaboration_from_json",
    "decode_result",
    "error_from_response",
    "message_from_json",
    "node_from_json",
    "normalize_status",
    "organization_from_json",
    "page_from_response",
    "parse_json",
    "result_from_json",
    "run_from_json",
    "task_from_json",
    "token_pair_from_json",
    "user_from_json",
]

P = ParamSpec("P")
R = TypeVar("R")
Obj = Mapping[str, Any]

_SECRETS = frozenset({"api_key", "otp_secret", "password"})
_ORG_KEYS = frozenset({"id", "name", "country", "domain", "address1", "address2", "zipcode", "public_key",
                       "collaborations", "nodes", "users", "tasks", "runs", "studies"})
_COLLAB_KEYS = frozenset({"id", "name", "encrypted", "organizations", "nodes", "tasks", "algorithm_stores",
                          "studies"})
_NODE_KEYS = frozenset({"id", "name", "status", "last_seen", "organization", "collaboration", "ip", "type",
                        "config"})
_TASK_KEYS = frozenset({"id", "name", "description", "image", "status", "created_at", "finished_at",
                        "collaboration", "init_org", "init_user", "job_id", "parent", "study", "databases",
                        "runs", "results", "children", "algorithm_store"})
_RUN_KEYS = frozenset({"id", "task", "organization", "node", "status", "assigned_at", "started_at",
                       "finished_at", "log", "input", "results", "result", "ports"})
_RESULT_KEYS = frozenset({"id", "run", "task", "result"})
_USER_KEYS = frozenset({"id", "username", "firstname", "lastname", "email", "organization", "last_seen", "type",
                        "roles", "rules", "ip", "status"})


def _guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (a missing id, a string where a number belongs) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GatewayError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = func.__name__.removesuffix("_from_json").removesuffix("_from_response")
            raise BackendError(f"The vantage6 backend returned a malformed {kind} ({exc}).",
                               backend=BACKEND) from exc

    return wrapper


def parse_json(body: bytes) -> Any:
    """Decode a JSON body; BackendError (naming the problem, not the body) when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "a body that is not JSON"
        raise BackendError(f"The vantage6 backend sent {kind}.", backend=BACKEND) from exc


def message_from_json(payload: Any) -> str | None:
    """The backend's own message of an error body: ``msg`` (vantage6) or ``message`` (werkzeug), plus the
    field errors of a validation failure (``{"errors": {"name": ["Missing data ..."]}}``)."""
    if not isinstance(payload, Mapping):
        return None
    raw = payload.get("msg", payload.get("message"))
    message = raw if isinstance(raw, str) else (json.dumps(raw) if raw is not None else None)
    errors = payload.get("errors")
    if isinstance(errors, Mapping) and errors:
        details = "; ".join(
            f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
            for field, problems in errors.items()
        )
        message = f"{message or 'Request body is incorrect'} ({details})"
    return message


def error_from_response(status: int, body: bytes, *, credential_sent: bool) -> GatewayError:
    """Return the taxonomy error for a non-2xx response, keeping the backend's message."""
    head = body.lstrip()[:1]
    if head == b"<":
        return error_for(status, None, credential_sent=credential_sent, html=True)
    try:
        payload = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return BackendError(f"The vantage6 backend answered HTTP {status} with a body that is not JSON.",
                            backend=BACKEND, backend_code=str(status))
    return error_for(status, message_from_json(payload), credential_sent=credential_sent)


def normalize_status(value: Any) -> str | None:
    """``"start failed"`` -> ``"start_failed"``, ``"non-existing Docker image"`` -> ``"non_existing_docker_image"``."""
    raw = opt_str(value)
    if raw is None:
        return None
    return "_".join(raw.replace("-", " ").lower().split())


def decode_result(raw: Any) -> Any | None:
    """Decode a base64 JSON result; None for anything else (missing, encrypted, binary): never an error."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        data = base64.b64decode(raw.encode("ascii"), validate=True)
        return json.loads(data.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeError):
        return None


def _obj(value: Any, what: str) -> Obj:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a JSON object for {what}, got {type(value).__name__}")
    return value


def _req_int(node: Obj, key: str) -> int:
    value = opt_int(node.get(key))
    if value is None:
        raise ValueError(f"missing {key}")
    return value


def _req_str(node: Obj, key: str) -> str:
    value = node.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _link_id(value: Any) -> int | None:
    """The id of a HATEOAS link object (or of a nested object, or a bare id); None for null or a URL string."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, Mapping):
        return opt_int(value.get("id"))
    return opt_int(value)


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value if value else None


def _extra(node: Obj, known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in known and k not in _SECRETS}


@_guard
def page_from_response(
    body: bytes, headers: Mapping[str, str], parse: Callable[[Any], R], page: int, per_page: int,
) -> Vantage6Page[R]:
    """Return one page: ``{"data": [...], "links": {...}}`` plus the ``total-count`` header."""
    payload = _obj(parse_json(body), "a list response")
    data = payload["data"]
    if not isinstance(data, list):
        raise TypeError(f"data is a {type(data).__name__}, not a list")
    links = payload.get("links") or {}
    if not isinstance(links, Mapping):
        raise TypeError("links is not an object")
    raw_total = headers.get("total-count")
    total = int(raw_total) if raw_total is not None and raw_total.strip() else None
    items = tuple(parse(item) for item in data)
    return Vantage6Page(items=items, total=total, page=page, per_page=per_page, has_next="next" in links)


@_guard
def organization_from_json(node: Any) -> OrganizationRecord:
    """Return an organization (``GET /organization/<id>``, or an item of a list)."""
    node = _obj(node, "an organization")
    return OrganizationRecord(
        id=_req_int(node, "id"), name=_req_str(node, "name"), country=_text(node.get("country")),
        domain=_text(node.get("domain")), address1=_text(node.get("address1")),
        address2=_text(node.get("address2")), zipcode=_text(node.get("zipcode")),
        public_key=_text(node.get("public_key")), raw_extra=_extra(node, _ORG_KEYS),
    )


@_guard
def collaboration_from_json(node: Any) -> CollaborationRecord:
    """Return a collaboration; member ids come from ``organizations`` when it is the nested list
    (``include=organizations``) and are () when the server sent only the link."""
    node = _obj(node, "a collaboration")
    orgs = node.get("organizations")
    org_ids: tuple[int, ...] = ()
    if isinstance(orgs, list):
        org_ids = tuple(sorted(_req_int(_obj(o, "a member organization"), "id") for o in orgs))
    encrypted = opt_bool(node.get("encrypted"))
    return CollaborationRecord(
        id=_req_int(node, "id"), name=_req_str(node, "name"), encrypted=bool(encrypted),
        organization_ids=org_ids, raw_extra=_extra(node, _COLLAB_KEYS),
    )


@_guard
def node_from_json(node: Any) -> Vantage6NodeRecord:
    """Return a node (its ``api_key``, sent once on creation, is dropped)."""
    node = _obj(node, "a node")
    return Vantage6NodeRecord(
        id=_req_int(node, "id"), name=_req_str(node, "name"), status=normalize_status(node.get("status")),
        last_seen_at=opt_datetime(node.get("last_seen")), organization_id=_link_id(node.get("organization")),
        collaboration_id=_link_id(node.get("collaboration")), ip=_text(node.get("ip")),
        raw_extra=_extra(node, _NODE_KEYS),
    )


def _database_labels(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError("databases is not a list")
    labels = []
    for item in value:
        label = item.get("label") if isinstance(item, Mapping) else item
        if isinstance(label, str) and label:
            labels.append(label)
    return tuple(labels)


@_guard
def task_from_json(node: Any) -> Vantage6TaskRecord:
    """Return a task (``GET /task/<id>``, a list item, or the body of ``POST /task``)."""
    node = _obj(node, "a task")
    return Vantage6TaskRecord(
        id=_req_int(node, "id"), name=_text(node.get("name")), description=_text(node.get("description")),
        image=_text(node.get("image")), status=normalize_status(node.get("status")),
        created_at=opt_datetime(node.get("created_at")), finished_at=opt_datetime(node.get("finished_at")),
        collaboration_id=_link_id(node.get("collaboration")), init_org_id=_link_id(node.get("init_org")),
        init_user_id=_link_id(node.get("init_user")), job_id=opt_int(node.get("job_id")),
        parent_id=_link_id(node.get("parent")), study_id=_link_id(node.get("study")),
        databases=_database_labels(node.get("databases")), raw_extra=_extra(node, _TASK_KEYS),
    )


@_guard
def run_from_json(node: Any) -> Vantage6RunRecord:
    """Return a run (``GET /run/<id>``, a list item, or the answer to a node's ``PATCH``)."""
    node = _obj(node, "a run")
    result = node.get("result")
    return Vantage6RunRecord(
        id=_req_int(node, "id"), task_id=_link_id(node.get("task")),
        organization_id=_link_id(node.get("organization")), node_id=_link_id(node.get("node")),
        status=normalize_status(node.get("status")), assigned_at=opt_datetime(node.get("assigned_at")),
        started_at=opt_datetime(node.get("started_at")), finished_at=opt_datetime(node.get("finished_at")),
        log=_text(node.get("log")), input=_text(node.get("input")), result_id=_link_id(node.get("results")),
        result=_text(result), result_decoded=decode_result(result), raw_extra=_extra(node, _RUN_KEYS),
    )


@_guard
def result_from_json(node: Any) -> Vantage6ResultRecord:
    """Return a result (``GET /result/<id>`` or a list item); ``decoded`` is None unless base64 JSON."""
    node = _obj(node, "a result")
    raw = _text(node.get("result"))
    return Vantage6ResultRecord(
        id=_req_int(node, "id"), run_id=_link_id(node.get("run")), task_id=_link_id(node.get("task")),
        result=raw, decoded=decode_result(raw), raw_extra=_extra(node, _RESULT_KEYS),
    )


@_guard
def user_from_json(node: Any) -> Vantage6UserRecord:
    """Return a user (its ``otp_secret`` is dropped)."""
    node = _obj(node, "a user")
    return Vantage6UserRecord(
        id=_req_int(node, "id"), username=_req_str(node, "username"), firstname=_text(node.get("firstname")),
        lastname=_text(node.get("lastname")), email=_text(node.get("email")),
        organization_id=_link_id(node.get("organization")), last_seen_at=opt_datetime(node.get("last_seen")),
        raw_extra=_extra(node, _USER_KEYS),
    )


@_guard
def token_pair_from_json(node: Any) -> Vantage6TokenPair:
    """Return the tokens of ``POST /token/user``, ``/token/node`` or ``/token/refresh``."""
    node = _obj(node, "a token answer")
    access = node["access_token"]
    if not isinstance(access, str) or not access:
        raise ValueError("access_token is not a string")
    refresh = node.get("refresh_token")
    return Vantage6TokenPair(
        access_token=access, refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_url=_text(node.get("refresh_url")), identity_url=_text(node.get("user_url") or node.get("node_url")),
    )
