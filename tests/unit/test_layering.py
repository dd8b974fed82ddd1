"""Dependencies point down only (design.md): checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOTTOM = ("gateway/errors.py", "gateway/http.py", "gateway/cache.py", "gateway/redis_cache.py", "gateway/ids.py",
          "gateway/settings.py")
SHARED_ADAPTER_MODULES = {"adapters._xml", "adapters._coerce", "adapters._openml", "adapters._auth",
                          "adapters._emulator", "adapters.records"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.count(".") == 1 and node.module.startswith("adapters."):
                # `from adapters.openml_v1 import emulator_data` imports the submodule, not the package
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_layering_adapters_never_import_strawberry_schema_or_other_adapters(path: Path) -> None:
    imports = _imports(path)
    assert not {i for i in imports if i.split(".")[0] in {"strawberry", "schema", "graphql"}}, imports
    assert not {i for i in imports if i.startswith("gateway.") and i not in {"gateway.errors", "gateway.http",
                                                                                "gateway.settings"}}
    parts = path.relative_to(ROOT).parts
    if len(parts) < 3:
        return  # adapters/records.py-level shared modules
    own = parts[1]
    others = {i for i in imports if i.startswith("adapters.") and i.split(".")[1] != own
              and not any(i == s or i.startswith(s + ".") for s in SHARED_ADAPTER_MODULES)}
    # emulators may share seeded test data (v2 serves the same entities as v1); clients and normalizers may not
    if path.name.startswith("emulator"):
        others = {i for i in others if ".emulator" not in i}
    assert not others, f"{path.name} imports another adapter: {others}"


@pytest.mark.parametrize("path", _modules("schema"), ids=lambda p: str(p.relative_to(ROOT)))
def test_layering_schema_never_sees_wire_formats(path: Path) -> None:
    imports = _imports(path)
    assert not {i for i in imports if i.split(".")[0] in {"aiohttp", "xmltodict", "yarl"}}, imports
    backend_internals = {i for i in imports if i.startswith("adapters.") and not i.startswith("adapters.records")}
    if not path.name.startswith("loaders"):
        assert not backend_internals, f"only schema/loaders*.py may call adapters: {backend_internals}"


@pytest.mark.parametrize("relative", BOTTOM)
def test_layering_bottom_tier_imports_neither_schema_nor_adapters(relative: str) -> None:
    imports = _imports(ROOT / relative)
    assert not {i for i in imports if i.split(".")[0] in {"schema", "adapters", "strawberry"}}, imports
