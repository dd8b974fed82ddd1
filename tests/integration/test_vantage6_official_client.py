"""The official ``vantage6.client.UserClient`` (4.15.2) works against our emulator as against the real server.

The client runs in the real server's venv (Python 3.10, where it is installed with the server) as a subprocess
pointed at each target; the emulator is served from this test's event loop meanwhile. Both targets must give
the client the seed's data: who the user is, its collaborations and organizations, a collaboration's tasks with
their statuses, a task's decrypted results and a run's decrypted input, and a working token refresh.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from adapters.vantage6.emulator_data import USERS, SeedResult
from tests.backends.vantage6_server import ensure_vantage6_venv

if TYPE_CHECKING:
    from tests.backends.vantage6_fixtures import Vantage6Target

pytest_plugins = ["tests.backends.vantage6_fixtures"]

SCRIPT = r"""
import json, sys
from vantage6.client import UserClient

url, username, password, run_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host, port = url.rsplit(":", 1)
client = UserClient(host, int(port), "/api", log_level="critical")
client.authenticate(username, password)
client.setup_encryption(None)
who = client.whoami
out = {"whoami": [who.id_, who.name, who.organization_id, who.organization_name]}
out["version"] = client.util.get_server_version()
out["collaborations"] = [[c["id"], c["name"], c["encrypted"]]
                         for c in client.collaboration.list(scope="organization")["data"]]
out["organizations"] = [[o["id"], o["name"], o["country"]] for o in client.organization.list()["data"]]
tasks = client.task.list(collaboration=2, per_page=50)["data"]
out["tasks"] = [[t["id"], t["name"], t["status"]] for t in tasks if not t["name"].startswith("contract-")]
out["task_1"] = client.task.get(1, include_results=True)["status"]
out["results"] = sorted(json.loads(r["result"])["organization"] for r in client.result.from_task(task_id=1)["data"])
out["run_input"] = json.loads(client.run.get(run_id)["input"])
client.refresh_token()
out["after_refresh"] = client.organization.get(2)["name"]
print("RESULT " + json.dumps(out))
"""


def _expected(seed: SeedResult) -> dict[str, object]:
    collab2 = [key for key in range(30, 0, -1) if key % 3 == 0]
    names = {3: "crosstab", 6: "kaplan-meier", 9: "summary", 12: "logistic-regression", 15: "average",
             18: "crosstab", 21: "kaplan-meier", 24: "summary", 27: "logistic-regression", 30: "average"}
    return {
        "whoami": [23, "Alice", 2, "Org A"],
        "version": {"version": "4.15.2"},
        "collaborations": [[1, "collab-1", False], [2, "collab-2", False]],
        "organizations": [[2, "Org A", "NL"], [3, "Org B", "BE"], [4, "Org C", "DE"]],
        "tasks": [[seed.tasks[k], f"{names[k]}-{k}", seed.expected_status(k)] for k in collab2],
        "task_1": "completed",
        "results": ["Org A", "Org B", "Org C"],
        "run_input": {"method": "partial_kaplan-meier", "kwargs": {"column": "bmi"}},
        "after_refresh": "Org A",
    }


async def test_vantage6_official_user_client_reads_the_same_data(vantage6_target: Vantage6Target) -> None:
    venv = await asyncio.to_thread(ensure_vantage6_venv)
    url = vantage6_target.url.removesuffix("/api")
    alice = USERS["alice"]
    run_id = vantage6_target.seed.runs[(1, "Org A")]
    proc = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "python"), "-c", SCRIPT, url, alice.username, alice.password, str(run_id),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()[-3000:]
    lines = [line for line in stdout.decode().splitlines() if line.startswith("RESULT ")]
    assert lines, stdout.decode()[-3000:] + stderr.decode()[-3000:]
    assert json.loads(lines[-1].removeprefix("RESULT ")) == _expected(vantage6_target.seed)
    if vantage6_target.emulator is not None:
        state = vantage6_target.emulator.state
        assert state.count("token/refresh", "POST") >= 1 and state.count(f"user/{23}", "GET") >= 1
