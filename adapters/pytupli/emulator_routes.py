"""The pytupli emulator's routes: the paths, bodies, statuses and messages of pytupli 1.2.9's endpoints."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.pytupli import emulator_validation as v
from adapters.pytupli.emulator_api import Handler, PytupliApi, Req, Route
from adapters.pytupli.emulator_store import ApiError, ArtifactFile, QueryError, User, forbidden

__all__ = ["ROUTES"]

_KINDS = ("benchmark", "episode", "artifact")
_HEADER_KEYS = ("id", "created_by", "published_in", "created_at")


def _header(doc: Mapping[str, Any], *extra: str) -> dict[str, Any]:
    return {k: doc[k] for k in (*_HEADER_KEYS, *extra) if k in doc}


def _benchmark_out(doc: Mapping[str, Any], full: bool = False) -> dict[str, Any]:
    return _header(doc, "hash", "metadata", *(("serialized",) if full else ()))


def _episode_out(doc: Mapping[str, Any], tuples: bool = False) -> dict[str, Any]:
    return _header(doc, "benchmark_id", "metadata", "n_tuples", "terminated", "timeout",
                   *(("tuples",) if tuples else ()))


# ---------------------------------------------------------------------------------------------- access


async def _root(api: PytupliApi, req: Req) -> Any:
    return None


async def _login(api: PytupliApi, req: Req) -> Any:
    creds = v.validate_body(v.USER_CREDENTIALS, req.body)
    if api.store.check_password(creds["username"], creds["password"]) is None:
        raise ApiError(401, "Incorrect username or password", {"WWW-Authenticate": "Bearer"})
    return {"access_token": api.token(creds["username"], api.config.access_minutes),
            "refresh_token": api.token(creds["username"], api.config.refresh_minutes)}


async def _refresh(api: PytupliApi, req: Req) -> Any:
    user = api.caller(req)
    groups = ["global", user.username] if user and user.username == api.params(req).get("username") else ["global"]
    if "user_read" not in api.store.rights_in_groups(user, groups):
        raise forbidden()
    assert user is not None  # the guest has no user_read
    return api.token(user.username, api.config.access_minutes)


async def _signup(api: PytupliApi, req: Req) -> Any:
    if not api.config.open_signup:
        api.require(req, ["global"], "user_create")
    creds = v.validate_body(v.USER_CREDENTIALS, req.body)
    if creds["username"] in api.store.users:
        raise ApiError(409, "User already exists")
    return api.store.add_user(creds["username"], creds["password"]).public()


async def _list_users(api: PytupliApi, req: Req) -> Any:
    api.require(req, ["global"], "user_read")
    return [u.public() for u in api.store.users.values()]


async def _create_group(api: PytupliApi, req: Req) -> Any:
    user = api.require(req, ["global"], "group_create")
    group = v.validate_body(v.GROUP, req.body)
    if group["name"] in api.store.groups:
        raise ApiError(409, "Group already exists")
    api.store.groups[group["name"]] = group
    assert user is not None
    user.memberships.append({"group": group["name"], "roles": ["group_admin", "contributor"]})
    return group


async def _list_groups(api: PytupliApi, req: Req) -> Any:
    user = api.caller(req)
    if "group_read" in api.store.rights_in_groups(user, ["global"]):
        return list(api.store.groups.values())
    mine = {g for g, _ in api.store.memberships(user)}
    return [g for name, g in api.store.groups.items() if name in mine]


def _group_view(api: PytupliApi, user: User | None, name: str) -> dict[str, Any]:
    group = api.store.groups.get(name)
    if group is None:
        raise ApiError(404, "Group not found")
    members: list[str] = []
    if "user_read" in api.store.rights_in_groups(user, ["global", name]):
        members = [u.username for u in api.store.users.values() if any(m["group"] == name for m in u.memberships)]
    return {**group, "members": members}


async def _read_group(api: PytupliApi, req: Req) -> Any:
    user = api.require(req, ["global", str(req.query.get("group_name"))], "group_read")
    return _group_view(api, user, v.check_query(req.query, "group_name")["group_name"])


async def _add_members(api: PytupliApi, req: Req) -> Any:
    user = api.require(req, ["global", str(api.params(req).get("group_name"))], "group_update")
    query = v.validate_body(v.GROUP_MEMBERSHIP_QUERY, req.body)
    name = query["group_name"]
    if name not in api.store.groups:
        raise ApiError(404, "Group not found")
    if "user_read" not in api.store.rights_in_groups(user, ["global"]):
        raise ApiError(403, "You do not have sufficient rights to add users to this group")
    mine = api.store.rights_in_groups(user, ["global", name])
    for member in query["members"]:
        for role in member["roles"] or []:
            if role not in api.store.roles:
                raise ApiError(404, f"Role {role} not found")
            if not set(api.store.roles[role][0]) <= mine:
                raise ApiError(403, f"You do not have sufficient rights to assign role {role}")
    for member in query["members"]:
        if not member["roles"]:
            continue
        target = api.store.users.get(member["user"])
        if target is None:
            raise ApiError(404, f"User {member['user']} not found")
        target.memberships = [m for m in target.memberships if m["group"] != name]
        target.memberships.append({"group": name, "roles": list(member["roles"])})
    return _group_view(api, user, name)


async def _list_roles(api: PytupliApi, req: Req) -> Any:
    api.require(req, ["global"], "role_management")
    return [{"role": r, "rights": list(rights), "description": d} for r, (rights, d) in api.store.roles.items()]


# ---------------------------------------------------------------------------------------------- content


async def _create_benchmark(api: PytupliApi, req: Req) -> Any:
    api.authorize(req, "benchmark", "benchmark_create")
    query = v.validate_body(v.BENCHMARK_QUERY, req.body)
    name = req.user.username if req.user else ""
    existing = next((b for b in api.store.benchmarks if b["hash"] == query["hash"]), None)
    if existing is not None:
        if existing["created_by"] == name:
            raise ApiError(409, "Benchmark already exists")
        if "global" in existing["published_in"]:
            raise ApiError(409, "Benchmark already exists in global group")
    doc = {"id": api.store.new_id(), "created_by": name, "published_in": [name], "created_at": api.store.now(),
           "hash": query["hash"], "metadata": query["metadata"], "serialized": query["serialized"]}
    api.store.benchmarks.append(doc)
    return _benchmark_out(doc)


async def _load_benchmark(api: PytupliApi, req: Req) -> Any:
    doc = api.authorize(req, "benchmark", "benchmark_read")
    v.check_query(req.query, "benchmark_id")
    if doc is None:
        raise ApiError(404, "Benchmark not found")
    return _benchmark_out(doc, full=True)


async def _list_benchmarks(api: PytupliApi, req: Req) -> Any:
    user = api.caller(req)
    flt = v.validate_body(v.BASE_FILTER, req.body, required=False)
    docs = _query_db(api, user, "benchmark_read", api.store.benchmarks, flt, "", "Failed to list benchmarks")
    return [_benchmark_out(d) for d in docs]


def _query_db(api: PytupliApi, user: User | None, right: str, docs: list[dict[str, Any]], flt: dict[str, Any],
              prefix: str, failure: str) -> list[dict[str, Any]]:
    try:
        return api.store.readable(user, right, docs, flt, prefix)
    except QueryError as exc:  # caught by the route's own try: a JSON 500
        raise ApiError(500, f"{failure}: {exc}") from exc


async def _record_episode(api: PytupliApi, req: Req) -> Any:
    api.authorize(req, "episode", "episode_create")
    episode = v.validate_body(v.EPISODE, req.body)
    benchmark = api.store.find("benchmark", episode["benchmark_id"])
    if benchmark is None:
        raise ApiError(404, "Benchmark id doesn't exist")
    if "benchmark_read" not in api.store.rights_in_groups(req.user, ["global", *benchmark["published_in"]]):
        raise ApiError(403, "Cannot record episodes for benchmarks without read access")
    tuples = episode["tuples"]
    if not tuples:
        raise ApiError(500, "Failed to record episode: list index out of range")
    name = req.user.username if req.user else ""
    doc = {"id": api.store.new_id(), "created_by": name, "published_in": [name], "created_at": api.store.now(),
           "benchmark_id": episode["benchmark_id"], "metadata": episode["metadata"], "n_tuples": len(tuples),
           "terminated": tuples[-1]["terminal"], "timeout": tuples[-1]["timeout"], "tuples": tuples}
    api.store.episodes.append(doc)
    return _episode_out(doc)


async def _list_episodes(api: PytupliApi, req: Req) -> Any:
    user = api.caller(req)
    flt = v.validate_body(v.EPISODES_LIST, req.body, required=False)
    tuples = bool(flt.pop("include_tuples"))
    docs = _query_db(api, user, "episode_read", api.store.episodes, flt, "", "Failed to list episodes")
    return [_episode_out(d, tuples) for d in docs]


async def _upload_artifact(api: PytupliApi, req: Req) -> Any:
    api.authorize(req, "artifact", "artifact_create")
    form = await req.request.post()
    data, raw_meta = form.get("data"), form.get("metadata")
    v.missing_fields(data=data, metadata=raw_meta)
    try:  # ArtifactMetadata.model_validate_json outside any try: a bad string is an unhandled exception
        meta = v.validate_body(v.ARTIFACT_METADATA, json.loads(str(raw_meta)))
    except (ValueError, v.RequestInvalid) as exc:
        raise ApiError(500, "Internal Server Error", plain=True) from exc
    content = data.file.read() if hasattr(data, "file") else str(data).encode()
    name = req.user.username if req.user else ""
    digest = hashlib.sha256(content + name.encode("utf-8")).hexdigest()
    existing = next((f for f in api.store.artifacts if f.metadata.get("hash") == digest), None)
    if existing is not None:
        return existing.metadata
    item = {**meta, "id": api.store.new_id(), "created_by": name, "published_in": [name],
            "created_at": api.store.now(), "hash": digest, "encoding": "utf-8"}
    api.store.artifacts.append(ArtifactFile(content, item))
    return item


async def _list_artifacts(api: PytupliApi, req: Req) -> Any:
    user = api.caller(req)
    flt = _prefixed(v.validate_body(v.BASE_FILTER, req.body, required=False), "metadata")
    docs = [f.metadata for f in api.store.artifacts]
    return _query_db(api, user, "artifact_read", docs, flt, "metadata", "Failed to list arifact")  # sic


def _prefixed(flt: dict[str, Any], prefix: str) -> dict[str, Any]:
    out = dict(flt)
    if out.get("key"):
        out["key"] = f"{prefix}.{out['key']}"
    out["filters"] = [_prefixed(f, prefix) for f in out.get("filters") or []]
    return out


async def _download_artifact(api: PytupliApi, req: Req) -> Any:
    meta = api.authorize(req, "artifact", "artifact_read")
    v.check_query(req.query, "artifact_id")
    file = api.store.artifact_file(req.query["artifact_id"]) if meta is not None else None
    if file is None:
        raise ApiError(404, "Artifact does not exist")
    name = str(file.metadata["name"])
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/"):
        media += "; charset=utf-8"
    quoted = quote(name)
    disposition = f"attachment; filename*=utf-8''{quoted}" if quoted != name else f'attachment; filename="{name}"'
    headers = {"Content-Type": media, "Content-Disposition": disposition, "Accept-Ranges": "bytes",
               "x-metadata": json.dumps(file.metadata, ensure_ascii=False, separators=(",", ":"))}
    return web.Response(body=file.data, headers=headers)


_NOT_FOUND_PUBLISH = {"benchmark": "Benchmark does not exists", "episode": "Referenced episode {id} does not exist",
                      "artifact": "Artifact does not exist"}
_NOT_FOUND_UNPUBLISH = {"benchmark": "Benchmark does not exist", "episode": "Episode {id} does not exist",
                        "artifact": "Artifact does not exist"}


def _publisher(kind: str, publish: bool) -> Handler:
    group_param = "publish_in" if publish else "unpublish_from"

    async def handler(api: PytupliApi, req: Req) -> Any:
        doc = api.authorize(req, kind, f"{kind}_read", ownership=publish)
        query = v.check_query(req.query, f"{kind}_id", group_param)
        if doc is None:
            table = _NOT_FOUND_PUBLISH if publish else _NOT_FOUND_UNPUBLISH
            raise ApiError(404, table[kind].format(id=query[f"{kind}_id"]))
        group = query[group_param]
        api.store.require_group_right(req.user, group, f"{kind}_create" if publish else f"{kind}_delete")
        if publish and kind == "episode":
            benchmark = api.store.find("benchmark", doc["benchmark_id"])
            if benchmark is None:  # BenchmarkHeader(**None): an unhandled TypeError upstream
                raise ApiError(500, "Internal Server Error", plain=True)
            if "benchmark_read" not in api.store.rights_in_groups(req.user, ["global", *benchmark["published_in"]]):
                raise ApiError(403, f"Insufficient permissions to read benchmark: {doc['benchmark_id']}")
        groups = list(doc.get("published_in") or [])
        if (group in groups) == publish:
            return None
        doc["published_in"] = [*groups, group] if publish else [g for g in groups if g != group]
        if kind == "artifact":  # re-uploaded to GridFS: it moves to the end of the list
            file = api.store.artifact_file(doc["id"])
            assert file is not None
            api.store.artifacts.remove(file)
            api.store.artifacts.append(file)
        return None

    return handler


def _deleter(kind: str) -> Handler:
    async def handler(api: PytupliApi, req: Req) -> Any:
        api.authorize(req, kind, f"{kind}_delete")
        item_id = v.check_query(req.query, f"{kind}_id")[f"{kind}_id"]
        if kind == "artifact":
            api.store.artifacts = [f for f in api.store.artifacts if f.metadata.get("id") != item_id]
        else:
            docs = api.store.benchmarks if kind == "benchmark" else api.store.episodes
            docs[:] = [d for d in docs if d["id"] != item_id]
        return None

    return handler


ROUTES: tuple[Route, ...] = (
    ("/", "GET", _root, False),
    ("/access/users/token", "POST", _login, True),
    ("/access/users/refresh-token", "POST", _refresh, False),
    ("/access/users/create", "POST", _signup, True),
    ("/access/users/list", "GET", _list_users, False),
    ("/access/groups/create", "POST", _create_group, True),
    ("/access/groups/list", "GET", _list_groups, False),
    ("/access/groups/read", "GET", _read_group, False),
    ("/access/groups/add-members", "POST", _add_members, True),
    ("/access/roles/list", "GET", _list_roles, False),
    ("/benchmarks/create", "POST", _create_benchmark, True),
    ("/benchmarks/load", "GET", _load_benchmark, False),
    ("/benchmarks/list", "POST", _list_benchmarks, True),
    ("/episodes/record", "POST", _record_episode, True),
    ("/episodes/list", "POST", _list_episodes, True),
    ("/artifacts/upload", "POST", _upload_artifact, False),
    ("/artifacts/list", "POST", _list_artifacts, True),
    ("/artifacts/download", "GET", _download_artifact, False),
    *((f"/{k}s/publish", "PUT", _publisher(k, True), False) for k in _KINDS),
    *((f"/{k}s/unpublish", "PUT", _publisher(k, False), False) for k in _KINDS),
    *((f"/{k}s/delete", "DELETE", _deleter(k), False) for k in _KINDS),
)
