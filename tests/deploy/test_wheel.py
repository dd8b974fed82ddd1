"""The image runs the project's wheel, not the checkout: that wheel alone must hold everything `gateway serve` needs.

docker/Dockerfile's builder stage copies a few paths and runs `pip wheel .`; the final stage installs only the wheels.
With no Docker engine here, this test does the same for the project's own wheel (its dependencies come from this
venv): copy what the builder's COPY lines copy into an empty directory, build the wheel there, install it into
another, and run its `gateway` script from outside the checkout against the emulator.
A module or subpackage left out of the wheel (say, a directory setuptools does not find) fails here, as it would
fail in the container.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.deploy.support import ROOT, gateway_serve


def _builder_context(dest: Path) -> None:
    """Copy into ``dest`` what the COPY lines of docker/Dockerfile's builder stage copy (no __pycache__)."""
    stage = (ROOT / "docker" / "Dockerfile").read_text().split(" AS builder\n", 1)[1].split("\nFROM ", 1)[0]
    copies = [line.split()[1:] for line in stage.splitlines() if line.startswith("COPY ")]
    assert copies
    for *sources, target in copies:
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, dest / target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(origin, dest / target / origin.name if target.endswith("/") else dest / target)


@pytest.fixture(scope="module")
def installed_wheel() -> Iterator[Path]:
    """The project's wheel built as the Dockerfile builds it, installed with no dependencies into a temp dir."""
    with tempfile.TemporaryDirectory(prefix="gateway-wheel-") as tmp:
        src, out, site = Path(tmp) / "src", Path(tmp) / "wheels", Path(tmp) / "site"
        src.mkdir()
        _builder_context(src)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(out), str(src)], check=True, timeout=600)
        (wheel,) = out.glob("ml_metadata_gateway-*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        assert "gateway/cli.py" in names and "adapters/openml_v1/emulator.py" in names
        subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=600)
        yield site


def test_wheel_modules_come_from_the_wheel_not_the_checkout(installed_wheel: Path) -> None:
    probe = ("import gateway.cli, gateway.app, schema, adapters.openml_v1.client as c; "
             "print(gateway.cli.__file__); print(c.__file__); gateway.app.create_app")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120,
                            cwd=installed_wheel.parent, env={"PYTHONPATH": str(installed_wheel), "PATH": "/usr/bin"})
    files = [Path(line) for line in result.stdout.split()]
    assert files and all(installed_wheel in f.parents for f in files), files


async def test_wheel_gateway_script_serves_graphql(installed_wheel: Path, openml_emulator: RunningEmulator) -> None:
    env = {"PYTHONPATH": str(installed_wheel), "GATEWAY_OPENML_URL": openml_emulator.url}
    script = installed_wheel / "bin" / "gateway"
    async with gateway_serve(env, command=[str(script)], cwd=installed_wheel.parent) as serve, \
            aiohttp.ClientSession() as session:
        query = '{ dataset(id: "openml:dataset:1") { id name } }'
        async with session.post(serve.base_url + "/graphql", json={"query": query}) as resp:
            body = await resp.json()
        async with session.get(serve.base_url + "/readyz") as ready:
            assert ready.status == 200
    assert resp.status == 200 and body["data"]["dataset"]["id"] == "openml:dataset:1", body
