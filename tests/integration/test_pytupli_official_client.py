"""pytupli's own Python client (``pytupli.storage.TupliAPIClient``, 1.2.9) works against our emulator exactly as
against the real server: it runs in the real server's venv as a subprocess, pointed at each target in turn, with
a file-based keyring (``keyrings.alt`` PlaintextKeyring) in a temporary HOME, since CI has no OS keyring."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.backends.pytupli_server import pytupli_venv

if TYPE_CHECKING:
    from tests.backends.pytupli_fixtures import PytupliTarget

pytest_plugins = ["tests.backends.pytupli_fixtures"]

SCRIPT = r'''
import json, sys
import keyring
from pytupli.schema import FilterEQ
from pytupli.storage import TupliAPIClient, TupliStorageError

url, password = sys.argv[1], sys.argv[2]
client = TupliAPIClient()
client.login("admin", password, url=url)
benchmarks = client.list_benchmarks()
cartpole = next(b for b in benchmarks if b.metadata.name == "cartpole-v1")
loaded = client.load_benchmark(cartpole.id)
episodes = client.list_episodes(FilterEQ(key="benchmark_id", value=cartpole.id))
full = client.list_episodes(FilterEQ(key="benchmark_id", value=cartpole.id), include_tuples=True)
artifacts = client.list_artifacts(FilterEQ(key="benchmark_id", value=cartpole.id))
blob = client.load_artifact(artifacts[0].id)
try:
    client.load_benchmark("does-not-exist")
    missing = "found"
except TupliStorageError as exc:
    missing = str(exc).split(" for url")[0]
# Upstream bug kept on both sides: the client reads {"access_token"} from /access/users/refresh-token, which
# answers {"token", "token_type"}; so once the access token is refused (401), the refresh fails, the stored
# tokens are wiped and the client asks to log in again.
keyring.set_password("pytupli", "access_token", "expired-or-garbage")
try:
    client.list_benchmarks()
    refresh = "ok"
except TupliStorageError as exc:
    refresh = str(exc)
print(json.dumps({
    "base_url_stored": keyring.get_password("pytupli", "base_url") == url,
    "names": [b.metadata.name for b in benchmarks],
    "loaded": [loaded.metadata.name, loaded.hash, loaded.serialized, loaded.published_in],
    "episodes": [[e.n_tuples, e.terminated, e.timeout, e.metadata] for e in episodes],
    "tuples": [len(e.tuples) for e in full],
    "artifacts": sorted(a.name for a in artifacts),
    "blob_size": len(blob),
    "missing": missing,
    "refresh": refresh,
    "tokens_left": keyring.get_password("pytupli", "refresh_token"),
}))
'''


async def run_official_client(target: PytupliTarget, home: Path) -> dict[str, Any]:
    venv = await asyncio.to_thread(pytupli_venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_KEYRING", "XDG_"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")
    proc = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "python"), "-c", SCRIPT, target.url, target.plan.passwords["admin"], env=env,
        cwd=str(home), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])


ADMIN_READS = {"global", "admin", "team-ml", "robotics"}


def _visible_to_admin(items: tuple) -> list:
    return [i for i in items if {i.owner, *i.publish} & ADMIN_READS]


async def test_pytupli_official_client_logs_in_lists_loads_and_reads_episodes(
        pytupli_target: PytupliTarget, tmp_path: Path) -> None:
    result = await run_official_client(pytupli_target, tmp_path)
    plan = pytupli_target.plan
    seed = plan.benchmark("cartpole-v1")
    assert result["base_url_stored"] is True
    assert [n for n in result["names"] if n in {b.name for b in plan.benchmarks}] == [
        b.name for b in _visible_to_admin(plan.benchmarks)]
    assert result["loaded"] == ["cartpole-v1", seed.hash, seed.serialized, ["admin", "global", "team-ml", "robotics"]]
    expected = [e for e in _visible_to_admin(plan.episodes) if e.benchmark == "cartpole-v1"]
    assert result["episodes"] == [[len(e.tuples), e.tuples[-1]["terminal"], e.tuples[-1]["timeout"], e.metadata]
                                  for e in expected]
    assert result["tuples"] == [len(e.tuples) for e in expected]
    assert result["artifacts"] == sorted(
        a.name for a in _visible_to_admin(plan.artifacts) if a.benchmark == "cartpole-v1")
    assert result["blob_size"] > 0
    assert result["missing"].startswith("API request failed: 404 Client Error: Not Found")
    assert result["refresh"] == "Token refresh failed: 'access_token'. Please login again."
    assert result["tokens_left"] is None  # the failed refresh wiped the stored tokens, on both targets
