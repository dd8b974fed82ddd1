"""Run the real pytupli 1.2.9 server on 127.0.0.1 and seed it through its REST API (backends.md §3).

The PyPI wheel holds ``pytupli.server.main:app`` but declares none of its server dependencies, so the venv gets
them explicitly (pinned to the versions checked here), plus ``nx-27017``, a MongoDB wire-protocol server on
SQLite that stands in for MongoDB (no real one can be installed on these machines), and ``keyrings.alt`` for
the official client's keyring in the integration test. Two processes, both ours, both stopped by PID:
``nx-27017 --db memory`` on one free port, then uvicorn on another, run from a fresh state directory.

The seed is ``adapters.pytupli.emulator_data.build_plan()``, the same plan the emulator loads, replayed here
in the same order through the real API (signups, logins, groups, creates, publishes, uploads).

Manual use: ``.venv/bin/python -m tests.backends.pytupli_server`` prints the URL and serves until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.pytupli.emulator_data import SeedPlan, build_plan
from tests.backends.harness import ServerProcess, ensure_venv, find_python, free_port

__all__ = ["PACKAGES", "PytupliServer", "SeedResult", "pytupli_venv", "seed_through_api", "start_pytupli_server"]

PACKAGES = (
    "pytupli==1.2.9", "fastapi==0.165.0", "uvicorn[standard]==0.54.0", "motor==3.7.1", "pymongo==4.20.0",
    "passlib==1.7.4", "bcrypt==4.0.1", "python-dotenv==1.2.4", "python-multipart==0.0.34", "nx-27017==0.8.1",
    "keyrings.alt==5.0.2",
)


def pytupli_venv() -> Path:
    """The cached Python 3.11 venv with the server, its undeclared dependencies, nx-27017 and the client."""
    return ensure_venv("pytupli", PACKAGES, find_python((3, 11)))


def _check_no_dotenv(venv: Path) -> None:
    # pytupli calls load_dotenv(override=True) at import; python-dotenv searches upward from the module's own
    # directory (not the cwd), so a stray .env there would silently override our environment.
    server = next(venv.glob("lib/python3.*/site-packages/pytupli/server"))
    for folder in (server, *server.parents):
        if (folder / ".env").is_file():
            raise RuntimeError(f"{folder / '.env'} would override the pytupli server's environment; remove it")


def _wait_tcp(proc: ServerProcess, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout} s:\n{proc.tail()}")


@dataclass
class PytupliServer:
    """A running real server: ``url`` is the server root (the backend URL convention for pytupli)."""

    url: str
    admin_password: str
    state_dir: Path
    venv: Path
    processes: list[ServerProcess] = field(default_factory=list)

    def stop(self) -> None:
        """Stop uvicorn, then nx-27017 (each by its own PID and process group), and remove the state dir."""
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def start_pytupli_server(admin_password: str = "pytupli-admin", *, open_access: bool = True,
                         timeout: float = 120.0) -> PytupliServer:
    """Install (first use) and start nx-27017 + the pytupli app on free loopback ports; wait until healthy."""
    venv = pytupli_venv()
    _check_no_dotenv(venv)
    state = Path(tempfile.mkdtemp(prefix="pytupli-"))
    server = PytupliServer(url="", admin_password=admin_password, state_dir=state, venv=venv)
    try:
        mongo_port, api_port = free_port(), free_port()
        mongo = ServerProcess("pytupli-nx27017", [str(venv / "bin" / "nx-27017"), "--db", "memory", "--host",
                                                  "127.0.0.1", "-p", str(mongo_port), "--log-file",
                                                  str(state / "nx.log"), "--pid-file", str(state / "nx.pid")],
                              cwd=state, log=state / "nx.out")
        server.processes.append(mongo)
        _wait_tcp(mongo, mongo_port, timeout)
        env = {
            "API_SECRET_KEY": uuid.uuid4().hex, "DB_ADMIN_PW": admin_password,
            "MONGO_CONNECTION_STRING": f"mongodb://127.0.0.1:{mongo_port}/", "MONGO_DB_NAME": "pytupli",
            # compared as strings upstream: only "" disables; ACCESS_TOKEN_EXPIRE_MINUTES must stay unset
            "OPEN_ACCESS_MODE": "True" if open_access else "", "OPEN_SIGNUP_MODE": "True",
        }
        api = ServerProcess("pytupli-api", [str(venv / "bin" / "python"), "-m", "uvicorn", "pytupli.server.main:app",
                                            "--host", "127.0.0.1", "--port", str(api_port), "--log-level", "warning"],
                            env=env, cwd=state, log=state / "api.log")
        server.processes.append(api)
        server.url = f"http://127.0.0.1:{api_port}"
        api.wait_http(f"{server.url}/", timeout=timeout)
    except BaseException:
        server.stop()
        raise
    return server


# ---------------------------------------------------------------------------------------------- seeding


@dataclass
class SeedResult:
    """What seeding created: ids by benchmark name, and the access token of every seeded user."""

    benchmark_ids: dict[str, str]
    episode_ids: list[str]
    artifact_ids: list[str]
    tokens: dict[str, str]


def _call(url: str, method: str, path: str, *, token: str | None = None, body: Any = None,
          multipart: tuple[bytes, str] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if multipart is not None:
        data, headers["Content-Type"] = multipart
    request = urllib.request.Request(f"{url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"seeding pytupli: {method} {path} -> {exc.code} {exc.read()[:300]!r}") from exc


def _form(metadata: dict[str, Any], data: bytes, filename: str, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{json.dumps(metadata)}\r\n'.encode(),
        (f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="{filename}"\r\n'
         f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def seed_through_api(url: str, plan: SeedPlan | None = None) -> SeedResult:
    """Replay ``plan`` (default: ``build_plan()``) against a fresh server at ``url`` through its REST API."""
    plan = plan or build_plan()
    tokens: dict[str, str] = {}
    for name, password in plan.passwords.items():
        if name != "admin":
            _call(url, "POST", "/access/users/create", body={"username": name, "password": password})
        login = _call(url, "POST", "/access/users/token", body={"username": name, "password": password})
        tokens[name] = login["access_token"]["token"]
    for group in plan.groups:
        _call(url, "POST", "/access/groups/create", token=tokens["admin"],
              body={"name": group.name, "description": group.description})
        _call(url, "POST", "/access/groups/add-members", token=tokens["admin"], body={
            "group_name": group.name, "members": [{"user": u, "roles": list(r)} for u, r in group.members]})
    ids: dict[str, str] = {}
    for b in plan.benchmarks:
        made = _call(url, "POST", "/benchmarks/create", token=tokens[b.owner],
                     body={"hash": b.hash, "serialized": b.serialized, "metadata": b.metadata})
        ids[b.name] = made["id"]
    for b in plan.benchmarks:
        for group in b.publish:
            _call(url, "PUT", f"/benchmarks/publish?benchmark_id={ids[b.name]}&publish_in={group}",
                  token=tokens[b.owner])
    episode_ids = []
    for e in plan.episodes:
        made = _call(url, "POST", "/episodes/record", token=tokens[e.owner],
                     body={"benchmark_id": ids[e.benchmark], "metadata": e.metadata, "tuples": list(e.tuples)})
        episode_ids.append(made["id"])
        for group in e.publish:
            _call(url, "PUT", f"/episodes/publish?episode_id={made['id']}&publish_in={group}", token=tokens[e.owner])
    artifact_ids = []
    for a in plan.artifacts:
        meta = {"name": a.name, "description": a.description,
                "benchmark_id": ids[a.benchmark] if a.benchmark else None, "extra": a.extra}
        made = _call(url, "POST", "/artifacts/upload", token=tokens[a.owner],
                     multipart=_form(meta, a.data, a.name, a.content_type))
        artifact_ids.append(made["id"])
    for a, artifact_id in zip(plan.artifacts, artifact_ids, strict=True):
        for group in a.publish:
            _call(url, "PUT", f"/artifacts/publish?artifact_id={artifact_id}&publish_in={group}",
                  token=tokens[a.owner])
    return SeedResult(benchmark_ids=ids, episode_ids=episode_ids, artifact_ids=artifact_ids, tokens=tokens)


if __name__ == "__main__":
    running = start_pytupli_server()
    try:
        seed_through_api(running.url, build_plan(running.admin_password))
        print(f"pytupli: {running.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    finally:
        running.stop()
