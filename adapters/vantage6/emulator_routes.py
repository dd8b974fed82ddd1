"""vantage6 emulator routes for tokens, organizations, collaborations, nodes and users (messages verbatim)."""

from __future__ import annotations

from adapters.vantage6 import emulator_jwt as jwt
from adapters.vantage6.emulator_http import ApiError, Ctx, Reply, generic_500, like, msg, paginate, reply
from adapters.vantage6.emulator_render import (
    collaboration_json,
    flask_error,
    node_json,
    organization_json,
    user_json,
)
from adapters.vantage6.emulator_store import ROLES, Identity
from adapters.vantage6.emulator_validate import validate

__all__ = [
    "TokenPolicy",
    "collaboration_get",
    "collaboration_list",
    "collaboration_post",
    "node_get",
    "node_list",
    "node_post",
    "organization_get",
    "organization_list",
    "organization_post",
    "token_node",
    "token_refresh",
    "token_user",
    "user_get",
    "user_list",
    "user_post",
]


class TokenPolicy:
    """Lifetimes of minted tokens (vantage6: 6 h access, 48 h refresh)."""

    def __init__(self, access_ttl: float = 6 * 3600, refresh_ttl: float = 48 * 3600) -> None:
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def pair(self, ctx: Ctx, kind: str, ident: int) -> dict[str, str]:
        roles = [ROLES[r][0] for r in ctx.store.users[ident].role_ids] if kind == "user" else []
        out = {
            "access_token": jwt.mint(ctx.secret, sub=ident, kind="access", client_type=kind, roles=roles,
                                     ttl=self.access_ttl),
            "refresh_token": jwt.mint(ctx.secret, sub=ident, kind="refresh", client_type=kind, roles=roles,
                                      ttl=self.refresh_ttl),
            "refresh_url": f"{ctx.api}/token/refresh",
        }
        out["user_url" if kind == "user" else "node_url"] = f"{ctx.api}/{kind}/{ident}"
        return out


def _invalid(errors: dict[str, object]) -> Reply:
    return reply({"msg": "Request body is incorrect", "errors": errors}, 400)


# ------------------------------------------------------------------------------------------------ tokens


def token_user(ctx: Ctx, tokens: TokenPolicy) -> Reply:
    body = ctx.body()
    errors = validate(body, "token_user")
    if errors:
        return _invalid(errors)
    user = ctx.store.user_by_name(body["username"])
    if user is None or user.password != body["password"]:
        raise msg(401, "Failed to login")
    pair = tokens.pair(ctx, "user", user.id)
    return reply(pair, 200, {"jwt-token": pair["access_token"]})


def token_node(ctx: Ctx, tokens: TokenPolicy) -> Reply:
    body = ctx.body()
    errors = validate(body, "token_node")
    if errors:
        return _invalid(errors)
    node = ctx.store.node_by_key(body["api_key"])
    if node is None:
        raise msg(401, "Api key is not recognized!")
    pair = tokens.pair(ctx, "node", node.id)
    return reply(pair, 200, {"jwt-token": pair["access_token"]})


def token_refresh(ctx: Ctx, tokens: TokenPolicy) -> Reply:
    try:
        claims = jwt.decode(jwt.bearer(ctx.headers.get("Authorization")), ctx.secret, want="refresh")
    except jwt.JwtError as exc:
        raise ApiError(Reply(exc.status, flask_error(exc.message))) from None
    kind, ident = str(claims.get("client_type")), claims.get("sub")
    if ctx.store.identity(kind, ident) is None:  # type: ignore[arg-type]
        raise generic_500()
    return reply(tokens.pair(ctx, kind, ident), 200)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ organizations


def organization_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("user", "node", "container"))
    store = ctx.store
    orgs = list(store.orgs.values())
    if "name" in ctx.query:
        orgs = [o for o in orgs if like(ctx.query["name"], o.name)]
    if "country" in ctx.query:
        orgs = [o for o in orgs if o.country == ctx.query["country"]]
    collab_id = ctx.arg_int("collaboration_id")
    if collab_id is not None:
        if not store.can_for_col(who, "organization", "v", collab_id):
            raise msg(401, "You lack the permission to get all organizations in your collaboration!")
        members = store.collabs[collab_id].org_ids if collab_id in store.collabs else []
        orgs = [o for o in orgs if o.id in members]
    if "ids" in ctx.query:
        wanted = set(ctx.query.getall("ids"))
        orgs = [o for o in orgs if str(o.id) in wanted]
    if not store.can(who, "organization", "v", "g"):
        if store.can(who, "organization", "v", "c"):
            visible = {o for c in store.auth_collabs(who) for o in store.collabs[c].org_ids} | {who.organization_id}
        elif store.can(who, "organization", "v", "o"):
            visible = {who.organization_id}
        else:
            raise msg(401, "You lack the permission to do that!")
        orgs = [o for o in orgs if o.id in visible]
    return paginate(ctx, orgs, "Organization", lambda o: organization_json(ctx.api, o))


def organization_get(ctx: Ctx, org_id: int) -> Reply:
    who = ctx.auth(("user", "node", "container"))
    org = ctx.store.orgs.get(org_id)
    if org is None:
        raise msg(404, f"Organization id={org_id} not found!")
    if not ctx.store.allowed_for_org(who, "organization", "v", org_id):
        raise msg(401, "You do not have permission to do that!")
    return reply(organization_json(ctx.api, org))


def organization_post(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    if not ctx.store.can(who, "organization", "c", "g"):
        raise msg(401, "You lack the permissions to do that!")
    body = ctx.body()
    errors = validate(body, "organization")
    if errors:
        return _invalid(errors)
    if any(o.name == body["name"] for o in ctx.store.orgs.values()):
        raise msg(400, f"Organization with name '{body['name']}' already exists!")
    org = ctx.store.add_org(body["name"], address1=body.get("address1", ""), address2=body.get("address2"),
                            zipcode=body.get("zipcode", ""), country=body.get("country", ""),
                            public_key=body.get("public_key", ""), domain=body.get("domain", ""))
    return reply(organization_json(ctx.api, org), 201)


# ------------------------------------------------------------------------------------------------ collaborations


def collaboration_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("user", "node"))
    store = ctx.store
    collabs = list(store.collabs.values())
    if "name" in ctx.query:
        collabs = [c for c in collabs if like(ctx.query["name"], c.name)]
    if "organization_id" in ctx.query:
        arg = ctx.query["organization_id"]
        if not store.can(who, "collaboration", "v", "g") and arg != str(who.organization_id):
            raise msg(401, "You lack the permission to request collaborations for this organization!")
        if store.can(who, "collaboration", "v", "g"):
            collabs = [c for c in collabs if arg in {str(o) for o in c.org_ids}]
    if not store.can(who, "collaboration", "v", "g"):
        if not store.can(who, "collaboration", "v", "o"):
            raise msg(401, "You lack the permission to do that!")
        collabs = [c for c in collabs if who.organization_id in c.org_ids]
    orgs = ctx.includes("organizations")
    return paginate(ctx, collabs, "Collaboration",
                    lambda c: collaboration_json(ctx.api, store, c, include_orgs=orgs))


def collaboration_get(ctx: Ctx, collab_id: int) -> Reply:
    who = ctx.auth(("user", "node", "container"))
    collab = ctx.store.collabs.get(collab_id)
    if collab is None:
        raise msg(404, f"collaboration having id={collab_id} not found")
    if not ctx.store.can(who, "collaboration", "v", "g") and not (
            ctx.store.can(who, "collaboration", "v", "o") and who.organization_id in collab.org_ids):
        raise msg(401, "You lack the permission to do that!")
    return reply(collaboration_json(ctx.api, ctx.store, collab, include_orgs=ctx.includes("organizations")))


def collaboration_post(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    body = ctx.body()
    errors = validate(body, "collaboration")
    if errors:
        return _invalid(errors)
    if any(c.name == body["name"] for c in ctx.store.collabs.values()):
        raise msg(400, f"Collaboration name '{body['name']}' already exists!")
    if not ctx.store.can(who, "collaboration", "c", "g"):
        raise msg(401, "You lack the permission to do that!")
    encrypted = body["encrypted"] in (1, True, "1", "true", "True")
    collab = ctx.store.add_collab(body["name"], [int(i) for i in body["organization_ids"]], encrypted)
    return reply(collaboration_json(ctx.api, ctx.store, collab), 200)  # vantage6 answers 200 here, not 201


# ------------------------------------------------------------------------------------------------ nodes


def node_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("user", "node"))
    store = ctx.store
    nodes = list(store.nodes.values())
    org_id = ctx.arg_int("organization_id")
    if org_id is not None:
        if not store.allowed_for_org(who, "node", "v", org_id):
            raise msg(401, f"You lack the permission view nodes from the organization with id {org_id}!")
        nodes = [n for n in nodes if n.organization_id == org_id]
    collab_id = ctx.arg_int("collaboration_id")
    if collab_id is not None:
        if not store.can_for_col(who, "node", "v", collab_id):
            raise msg(401, f"You lack the permission view nodes from the collaboration with id {collab_id}!")
        nodes = [n for n in nodes if n.collaboration_id == collab_id]
    for param in ("status", "ip"):
        if param in ctx.query:
            nodes = [n for n in nodes if getattr(n, param) == ctx.query[param]]
    if "name" in ctx.query:
        nodes = [n for n in nodes if like(ctx.query["name"], n.name)]
    # SQLite scans the unique index on node.name when nothing but the name narrows the query
    by_name = org_id is None and collab_id is None and not {"status", "ip"} & set(ctx.query)
    if not store.can(who, "node", "v", "g"):
        by_name = False
        if store.can(who, "node", "v", "c"):
            nodes = [n for n in nodes if n.collaboration_id in store.auth_collabs(who)]
        elif store.can(who, "node", "v", "o"):
            nodes = [n for n in nodes if n.organization_id == who.organization_id]
        else:
            raise msg(401, "You lack the permission to do that!")
    return paginate(ctx, nodes, "Node", lambda n: node_json(ctx.api, ctx.methods, n),
                    natural=(lambda n: n.name) if by_name else None)


def node_get(ctx: Ctx, node_id: int) -> Reply:
    who = ctx.auth(("user", "node"))
    node = ctx.store.nodes.get(node_id)
    if node is None:
        raise msg(404, f"Node id={node_id} is not found!")
    if not ctx.store.allowed_for_org(who, "node", "v", node.organization_id):
        raise msg(401, "You lack the permission to do that!")
    return reply(node_json(ctx.api, ctx.methods, node))


def node_post(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    store = ctx.store
    body = ctx.body()
    errors = validate(body, "node")
    if errors:
        return _invalid(errors)
    collab = store.collabs.get(int(body["collaboration_id"]))
    if collab is None:
        raise msg(404, f"collaboration id={body['collaboration_id']} does not exist")
    org_id = int(body["organization_id"]) if body.get("organization_id") is not None else who.organization_id
    if org_id not in store.orgs:
        raise msg(404, f"organization id={org_id} does not exist")
    if not store.allowed_for_org(who, "node", "c", org_id):
        raise msg(401, "You lack the permission to do that!")
    if org_id not in collab.org_ids:
        raise msg(400, f"The organization id={org_id} is not part of collabotation id={collab.id}. Add it first!")
    if any(n.organization_id == org_id and n.collaboration_id == collab.id for n in store.nodes.values()):
        raise msg(400, f"Organization id={org_id} already has a node for collaboration id={collab.id}")
    name = body.get("name") or f"{store.orgs[org_id].name} - {collab.name} Node"
    if any(n.name == name for n in store.nodes.values()):
        raise msg(400, f"Node with name '{name}' already exists!")
    node = store.add_node(collab.id, org_id, name)
    return reply({**node_json(ctx.api, ctx.methods, node), "api_key": node.api_key}, 201)


# ------------------------------------------------------------------------------------------------ users


def _user_visible(ctx: Ctx, who: Identity, org_id: int, user_id: int) -> bool:
    return (who.kind == "user" and who.id == user_id) or ctx.store.allowed_for_org(who, "user", "v", org_id)


def user_list(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    users = [u for u in ctx.store.users.values() if _user_visible(ctx, who, u.organization_id, u.id)]
    if "username" in ctx.query:
        users = [u for u in users if like(ctx.query["username"], u.username)]
    org_id = ctx.arg_int("organization_id")
    if org_id is not None:
        users = [u for u in users if u.organization_id == org_id]
    by_name = org_id is None and ctx.store.can(who, "user", "v", "g")  # SQLite scans the username index
    return paginate(ctx, users, "User", lambda u: user_json(ctx.api, ctx.methods, u),
                    natural=(lambda u: u.username) if by_name else None)


def user_get(ctx: Ctx, user_id: int) -> Reply:
    who = ctx.auth(("user",))
    user = ctx.store.users.get(user_id)
    if user is None:
        raise msg(404, f"user id={user_id} is not found")
    if not _user_visible(ctx, who, user.organization_id, user.id):
        raise msg(401, "You lack the permission to do that!")
    return reply(user_json(ctx.api, ctx.methods, user))


def user_post(ctx: Ctx) -> Reply:
    who = ctx.auth(("user",))
    store = ctx.store
    body = ctx.body()
    errors = validate(body, "user")
    if errors:
        return _invalid(errors)
    if store.user_by_name(body["username"]) is not None:
        raise msg(400, "username already exists.")
    if any(u.email == body["email"] for u in store.users.values()):
        raise msg(400, "email already exists.")
    org_id = int(body.get("organization_id") or store.users[who.id].organization_id)
    if org_id != who.organization_id and store.can(who, "user", "c", "g") and org_id not in store.orgs:
        raise msg(404, "Organization does not exist.")
    if not store.allowed_for_org(who, "user", "c", org_id):
        raise msg(401, "You lack the permission to do that!")
    for key in ("firstname", "lastname"):
        if key not in body:  # upstream reads data["firstname"] unguarded: a KeyError caught by handle_exceptions
            raise msg(500, f"An unexpected error occurred: '{key}'")
    roles = [int(r) for r in body.get("roles") or () if int(r) in ROLES]
    user = store.add_user(body["username"], body["password"], body["firstname"], body["lastname"], body["email"],
                          org_id, roles)
    return reply(user_json(ctx.api, ctx.methods, user), 201)
