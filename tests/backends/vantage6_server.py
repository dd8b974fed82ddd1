"""The real vantage6-server 4.15.2 on 127.0.0.1 for contract tests: installed, started, seeded, stopped by PID.

- installs ``vantage6-server==4.15.2`` and ``vantage6-backend-common==4.15.2`` (the server does not declare the
  latter) into a cached Python 3.10 venv (Python 3.11 breaks vantage6's permission names), which also holds the
  official client ``vantage6.client``;
- starts ``vantage6_launch.py`` (beside this file: ``run_server`` + gevent pywsgi with TCP_NODELAY) on a free
  loopback port, with its own state directory, sqlite file and ``HOME``, and waits for ``/api/health``;
- seeds it through its real REST API with the same steps the emulator replays (``emulator_data.seed_steps``):
  root logs in, creates organizations, collaborations, nodes and users; the users create tasks; the tests act as
  the nodes (``POST /token/node`` + ``PATCH /run/<id>``) to finish runs with results.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from adapters.records.vantage6 import Vantage6TokenPair
from adapters.vantage6.admin import Vantage6Admin
from adapters.vantage6.client import Vantage6Client
from adapters.vantage6.emulator_data import (
    ROOT_PASSWORD,
    USERS,
    CreateCollaboration,
    CreateNode,
    CreateOrganization,
    CreateTask,
    CreateUser,
    KillTask,
    PatchRun,
    SeedResult,
    Step,
    seed_steps,
)
from gateway.http import BackendHTTP, HTTPPolicy
from gateway.settings import BackendSettings
from tests.backends.harness import ServerProcess, ensure_venv, find_python, free_port

__all__ = ["PACKAGES", "RealVantage6", "apply_steps_http", "ensure_vantage6_venv", "start_real_vantage6"]

PACKAGES = ("vantage6-server==4.15.2", "vantage6-backend-common==4.15.2")
LAUNCHER = Path(__file__).with_name("vantage6_launch.py")
JWT_SECRET = "gateway-ci-only-secret"


def ensure_vantage6_venv() -> Path:
    """The cached Python 3.10 venv with the server (and its official client), installed on first use."""
    return ensure_venv("vantage6", PACKAGES, find_python((3, 10)))


@dataclass
class RealVantage6:
    """A running real server: ``url`` is its API root (``.../api``)."""

    url: str
    base_url: str
    venv: Path
    state_dir: Path
    process: ServerProcess
    seed: SeedResult = field(default_factory=SeedResult)
    tokens: dict[str, Vantage6TokenPair] = field(default_factory=dict)
    node_tokens: dict[int, Vantage6TokenPair] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        """The venv's interpreter (it can ``import vantage6.client``)."""
        return self.venv / "bin" / "python"

    def stop(self) -> None:
        """Stop the server we started (SIGTERM to its process group, SIGKILL after 10 s)."""
        self.process.stop(timeout=10.0)


def _config(state_dir: Path, port: int) -> Path:
    config = {
        "description": "gateway CI vantage6 server", "ip": "127.0.0.1", "port": port, "api_path": "/api",
        "uri": f"sqlite:///{state_dir / 'v6.sqlite'}", "allow_drop_all": True, "jwt_secret_key": JWT_SECRET,
        "logging": {"level": "WARNING", "use_console": True, "backup_count": 1, "max_size": 1024,
                    "file": "v6ci.log", "format": "%(asctime)s - %(name)-14s - %(levelname)-8s - %(message)s",
                    "datefmt": "%Y-%m-%d %H:%M:%S"},
    }
    path = state_dir / "v6.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML: vantage6 reads it with PyYAML
    return path


def start_real_vantage6(state_dir: Path, *, timeout: float = 180.0) -> RealVantage6:
    """Install (cached) and start a fresh server in ``state_dir``; blocks until ``/api/health`` answers."""
    venv = ensure_vantage6_venv()
    if state_dir.exists():
        shutil.rmtree(state_dir)
    (state_dir / "home").mkdir(parents=True)
    port = free_port()
    config = _config(state_dir, port)
    process = ServerProcess(
        "vantage6", [str(venv / "bin" / "python"), str(LAUNCHER), str(config), "127.0.0.1", str(port)],
        env={"HOME": str(state_dir / "home"), "PYTHONUNBUFFERED": "1"}, cwd=state_dir,
        log=state_dir / "server.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{base}/api/health", timeout=timeout)
    except BaseException:
        process.stop()
        raise
    return RealVantage6(url=f"{base}/api", base_url=base, venv=venv, state_dir=state_dir, process=process)


async def seed_real(server: RealVantage6) -> SeedResult:
    """Seed ``server`` through its API (see module docstring) and remember the result on it."""
    http = BackendHTTP("vantage6", server.url, HTTPPolicy(total_timeout=60.0, retries=0))
    try:
        client = Vantage6Client(http, BackendSettings(url=server.url))
        server.seed = await apply_steps_http(client, Vantage6Admin(client), seed_steps(), server.tokens,
                                             server.node_tokens)
    finally:
        await http.close()
    return server.seed


async def apply_steps_http(
    client: Vantage6Client, admin: Vantage6Admin, steps: list[Step], tokens: dict[str, Vantage6TokenPair],
    node_tokens: dict[int, Vantage6TokenPair],
) -> SeedResult:
    """Replay ``steps`` through the REST API, in order; returns names -> ids as the server assigned them.

    The logins it needed are left in ``tokens`` (by username) and ``node_tokens`` (by node id): each costs
    a bcrypt check on the server (a node's login checks every node's key until one matches).
    """
    seed = SeedResult()
    tokens["root"] = await client.login("root", ROOT_PASSWORD)
    created: dict[int, dt.datetime] = {}
    task_collab: dict[int, str] = {}

    async def user_token(name: str) -> str:
        if name not in tokens:
            tokens[name] = await client.login(name, USERS[name].password)
        return tokens[name].access_token

    async def node_token(node_id: int) -> str:
        if node_id not in node_tokens:
            node_tokens[node_id] = await admin.node_login(seed.node_keys[node_id])
        return node_tokens[node_id].access_token

    root = tokens["root"].access_token
    for step in steps:
        if isinstance(step, CreateOrganization):
            org = await admin.create_organization(step.name, credential=root, country=step.country,
                                                  domain=step.domain, address1=step.address1, zipcode=step.zipcode)
            seed.organizations[step.name] = org.id
        elif isinstance(step, CreateCollaboration):
            collab = await admin.create_collaboration(
                step.name, [seed.organizations[o] for o in step.organizations], credential=root,
                encrypted=step.encrypted)
            seed.collaborations[step.name] = collab.id
        elif isinstance(step, CreateNode):
            node, key = await admin.create_node(seed.collaborations[step.collaboration],
                                                seed.organizations[step.organization], credential=root,
                                                name=step.name)
            seed.nodes[(step.organization, step.collaboration)] = node.id
            seed.node_keys[node.id] = key
        elif isinstance(step, CreateUser):
            user = await admin.create_user(
                step.username, step.password, credential=root, firstname=step.firstname, lastname=step.lastname,
                email=step.email, organization_id=seed.organizations[step.organization], roles=[step.role_id])
            seed.users[step.username] = user.id
        elif isinstance(step, CreateTask):
            await _create_task(client, seed, step, await user_token(step.creator), created)
            task_collab[step.key] = step.collaboration
        elif isinstance(step, PatchRun):
            if not seed.runs:
                await _map_runs(client, seed, root)
            node_id = seed.nodes[(step.organization, task_collab[step.task])]
            base = created[step.task].replace(microsecond=0)  # offsets from a whole second: exact times stay exact
            await admin.patch_run(
                seed.runs[(step.task, step.organization)], node_token=await node_token(node_id), status=step.status,
                started_at=base + dt.timedelta(seconds=step.started) if step.started is not None else None,
                finished_at=base + dt.timedelta(seconds=step.finished) if step.finished is not None else None,
                log=step.log, result=step.result)
        elif isinstance(step, KillTask):
            await client.kill_task(seed.tasks[step.task], await user_token(step.by))
    return seed


async def _create_task(client: Vantage6Client, seed: SeedResult, step: CreateTask, token: str,
                       created: dict[int, dt.datetime]) -> None:
    task = await client.create_task(
        seed.collaborations[step.collaboration],
        [{"id": seed.organizations[o], "input": step.input} for o in step.organizations], step.image,
        name=step.name, description=step.description, databases=list(step.databases), credential=token)
    seed.tasks[step.key] = task.id
    assert task.created_at is not None
    created[step.key] = task.created_at


async def _map_runs(client: Vantage6Client, seed: SeedResult, root: str) -> None:
    """Every run of the seeded tasks, in one call: (task key, organization name) -> run id."""
    runs = await client.list_runs(1, 1000, root)
    keys = {task_id: key for key, task_id in seed.tasks.items()}
    names = {org_id: name for name, org_id in seed.organizations.items()}
    for run in runs.items:
        if run.task_id in keys and run.organization_id in names:
            seed.runs[(keys[run.task_id], names[run.organization_id])] = run.id
