"""The real openml-python 0.15.1 client works against the emulator and sees the emulator's data."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import aiohttp
import pytest
import pytest_asyncio

openml = pytest.importorskip("openml")

from adapters.openml_v1.emulator import EmulatorConfig, start_emulator  # noqa: E402

OML = "{http://openml.org/openml}"


@pytest_asyncio.fixture(scope="module")
async def emu(tmp_path_factory):
    running = await start_emulator(EmulatorConfig())
    saved = (openml.config.server, openml.config.apikey, openml.config.connection_n_retries)
    openml.config.server = running.url
    openml.config.apikey = "demo-key-alice"
    openml.config.connection_n_retries = 1
    openml.config.set_root_cache_directory(tmp_path_factory.mktemp("openml-cache"))
    yield running
    openml.config.server, openml.config.apikey, openml.config.connection_n_retries = saved
    await running.close()


async def xml(emu, path: str) -> ET.Element:
    async with aiohttp.ClientSession() as session, session.get(f"{emu.url}/{path}") as resp:
        assert resp.status == 200
        return ET.fromstring(await resp.read())


async def test_get_recorded_dataset_61(emu):
    d = await asyncio.to_thread(openml.datasets.get_dataset, 61, download_data=False, download_qualities=True,
                                download_features_meta_data=True)
    assert (d.name, d.version, d.default_target_attribute) == ("iris", 1, "class")
    assert d.features[4].nominal_values == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert d.qualities["NumberOfInstances"] == 150.0
    assert "uci" in d.tag


async def test_get_generated_dataset(emu):
    store = emu.state.store
    src = store.datasets[31]
    d = await asyncio.to_thread(openml.datasets.get_dataset, 31, download_data=False, download_qualities=True,
                                download_features_meta_data=True)
    assert (d.name, d.format, d.version) == ("credit-g", "ARFF", src.version)
    assert len(d.features) == src.n_features and d.qualities["NumberOfInstances"] == float(src.n_instances)
    assert d.retrieve_class_labels("class") == ["good", "bad"]


async def test_get_task_31(emu):
    emu.state.reset_calls()
    t = await asyncio.to_thread(openml.tasks.get_task, 31, download_splits=False)
    assert (t.task_id, t.dataset_id, t.target_name) == (31, 31, "class")
    assert t.class_labels == ["good", "bad"]
    assert t.estimation_procedure["parameters"]["number_folds"] == "10"
    assert emu.state.count("task/31") == 1 and emu.state.count("data/features/31") <= 1


async def test_task_splits_download(emu):
    t = await asyncio.to_thread(openml.tasks.get_task, 31, download_splits=True)
    train, test = t.get_train_test_split_indices(fold=0)
    assert len(train) + len(test) == emu.state.store.datasets[31].n_instances


async def test_get_flows(emu):
    f = await asyncio.to_thread(openml.flows.get_flow, 5270)
    assert f.name == "mlr.classif.randomForest.filtered"
    assert f.components["randomForest"].flow_id == 5271
    store = emu.state.store
    gid = next(x.id for x in store.flows.values() if "GridSearchCV" in x.name)
    g = await asyncio.to_thread(openml.flows.get_flow, gid)
    assert g.name == store.flows[gid].name and g.version == str(store.flows[gid].version)
    inner = g.components["estimator"]
    assert inner.flow_id == store.flows[gid].components[0][1] and len(inner.components) == 2


async def test_get_runs(emu):
    r = await asyncio.to_thread(openml.runs.get_run, 100)
    assert (r.flow_name, r.task_id, r.dataset_id) == ("weka.BayesNet_K2(1)", 28, 28)
    assert r.evaluations["predictive_accuracy"] == 0.922242
    store = emu.state.store
    rid = next(x for x in store.runs_by_task[31] if not store.run(x).error)
    g = await asyncio.to_thread(openml.runs.get_run, rid)
    ev = (await xml(emu, f"evaluation/list/function/predictive_accuracy/run/{rid}")).find(
        f"{OML}evaluation/{OML}value").text
    assert (g.task_id, g.flow_id, g.setup_id) == (31, store.run(rid).flow, store.run(rid).setup)
    assert g.evaluations["predictive_accuracy"] == float(ev)
    assert len(g.fold_evaluations["predictive_accuracy"][0]) == 10


async def test_get_setup(emu):
    store = emu.state.store
    rid = next(x for x in store.runs_by_task[31] if not store.run(x).error)
    sid = store.run(rid).setup
    s = await asyncio.to_thread(openml.setups.get_setup, sid)
    assert (s.setup_id, s.flow_id) == (sid, store.setups[sid].flow_id)
    assert s.parameters and all(p.flow_id in {f.id for f in store.flow_tree(s.flow_id)}
                                for p in s.parameters.values())
    recorded = await asyncio.to_thread(openml.setups.get_setup, 100)
    assert [p.value for p in recorded.parameters.values()] == ["0.9", "2"]


async def test_list_runs_and_evaluations_of_task_31(emu):
    runs = await asyncio.to_thread(openml.runs.list_runs, task=[31], size=50)
    expected = [int(e.text) for e in (await xml(emu, "run/list/task/31/limit/50")).iter(f"{OML}run_id")]
    assert list(runs) == expected and len(runs) == 50
    assert all(r["task_id"] == 31 for r in runs.values())
    evals = await asyncio.to_thread(openml.evaluations.list_evaluations, "predictive_accuracy", tasks=[31],
                                    size=50)
    assert len(evals) == 50
    rows = (await xml(emu, "evaluation/list/function/predictive_accuracy/task/31/limit/50")).findall(
        f"{OML}evaluation")
    for row in rows:
        e = evals[int(row.find(f"{OML}run_id").text)]
        assert e.value == float(row.find(f"{OML}value").text)
        assert e.data_name == "credit-g" and e.flow_name == row.find(f"{OML}flow_name").text
        assert e.uploader_name == emu.state.store.users[e.uploader]
