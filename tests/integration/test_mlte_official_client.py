"""MLTE's own Python library (2.7.0, from the real server's venv) works against our emulator as against the real server.

A script run by the venv's interpreter uses MLTE's HTTP store (``http://user:password@host:port``): it logs in,
lists models and versions, reads a card and evidence through the artifact classes, searches, writes evidence
with ``parents=True`` and reports refused credentials. The emulator is served from the test's event loop and the
script runs as a subprocess, so both answer concurrently. Both targets must produce the same output.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from adapters.mlte.emulator import RunningEmulator
from tests.backends.mlte_server import RealMLTE, mlte_venv

pytest_plugins = ["tests.backends.mlte_fixtures"]

SCRIPT = r'''
import json, sys
from mlte.context.context import Context
from mlte.evidence.metadata import EvidenceMetadata
from mlte.evidence.types.integer import Integer
from mlte.evidence.types.real import Real
from mlte.measurement.model import MeasurementMetadata
from mlte.negotiation.artifact import NegotiationCard
from mlte.store.artifact.store_session import ManagedArtifactSession
from mlte.store.artifact.underlying.http import HttpArtifactStore
from mlte.store.base import StoreURI
from mlte.store.query import Query, TypeFilter
from mlte.suite.test_suite import TestSuite
import mlte.session

base, model = sys.argv[1], sys.argv[2]
host = base.split("://", 1)[1]
store = HttpArtifactStore(uri=StoreURI.from_string(f"http://admin:admin1234@{host}"))
out = {}
with ManagedArtifactSession(store.session()) as session:
    out["models"] = session.model_mapper.list_all()[:25]
    out["slash_model"] = session.model_mapper.read("clinical/diabetes-risk").to_json()
    out["versions"] = session.version_mapper.list_all("credit-risk")
    found = session.artifact_mapper.search(Query(filter=TypeFilter(item_type="evidence")), ("credit-risk", "v2"))
    out["evidence_ids"] = [a.header.identifier for a in found]
    try:
        session.artifact_mapper.read("evidence.nope", ("credit-risk", "v2"))
    except Exception as exc:
        out["missing"] = f"{type(exc).__name__}: {exc}"
card = NegotiationCard.load_with("default", context=Context("credit-risk", "v2"), store=store)
out["card"] = {"id": card.identifier, "source": card.data[0].source, "level": str(card.level),
               "qas": [q.identifier for q in card.quality_scenarios]}
latency = Real.load_with("evidence.latency-p95", context=Context("credit-risk", "v2"), store=store)
out["latency"] = {"id": latency.identifier, "value": latency.value, "unit": str(latency.unit)}
suite = TestSuite.load_with("v2-acceptance", context=Context("credit-risk", "v1"), store=store)
out["suite_cases"] = sorted(suite.test_cases)
metadata = EvidenceMetadata(test_case_id="official-client", measurement=MeasurementMetadata(
    measurement_class="mlte.measurement.external_measurement.ExternalMeasurement",
    output_class="mlte.evidence.types.integer.Integer"))
saved = Integer(42).with_metadata(metadata).save_with(Context(model, "v1"), store, parents=True, user="someone")
out["saved"] = {"id": saved.header.identifier, "creator": saved.header.creator, "level": saved.header.level,
                "timestamp_set": saved.header.timestamp > 0}
out["read_back"] = Integer.load_with("official-client", context=Context(model, "v1"), store=store).value
try:
    HttpArtifactStore(uri=StoreURI.from_string(f"http://admin:wrong@{host}")).session()
except Exception as exc:
    out["bad_password"] = str(exc)
mlte.session.set_context("credit-risk", "v1")
try:
    mlte.session.set_store(f"http://admin:admin1234@{host}")  # fails upstream: custom lists are not logged in
except Exception as exc:
    out["set_store"] = type(exc).__name__
print(json.dumps(out, sort_keys=True))
'''


async def _run(tmp_path: Path, base_url: str, model: str) -> dict:
    script = tmp_path / "official_client.py"
    script.write_text(SCRIPT)
    python = mlte_venv() / "bin" / "python"
    process = await asyncio.create_subprocess_exec(str(python), str(script), base_url, model,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                   cwd=str(tmp_path))
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()[-3000:]
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def test_mlte_official_client_reads_and_writes_through_emulator_as_through_real_server(
        tmp_path: Path, mlte_emulator: RunningEmulator, mlte_real_server: RealMLTE) -> None:
    model = f"official-{uuid.uuid4().hex[:8]}"
    emulated = await _run(tmp_path, mlte_emulator.base_url, model)
    real = await _run(tmp_path, mlte_real_server.base_url, model)
    assert emulated == real
    assert emulated["models"][:3] == ["credit-risk", "spam-filter", "clinical/diabetes-risk"]
    assert emulated["slash_model"] == {"identifier": "clinical/diabetes-risk",
                                       "versions": [{"identifier": "v1"}, {"identifier": "v1.1"}]}
    assert emulated["card"]["source"] == "openml:dataset:31" and emulated["card"]["level"] == "model"
    assert emulated["latency"]["unit"] == "millisecond" and len(emulated["evidence_ids"]) == 18
    assert emulated["saved"] == {"id": "evidence.official-client", "creator": "admin", "level": "version",
                                 "timestamp_set": True}
    assert emulated["read_back"] == 42
    assert "code: 400" in emulated["bad_password"] and "invalid_grant" in emulated["bad_password"]
    assert emulated["missing"].startswith("ErrorNotFound") and emulated["set_store"] == "UnauthenticatedError"
    assert mlte_emulator.state.count("token", "POST") >= 3
