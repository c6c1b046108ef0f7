"""No package imports one above it (issue 11). The layers, lowest first:

    models  <-  workflows  <-  activities  <-  osom (the front doors)  <-  worker.py, main.py

A module may import its own layer and those below it. Every import counts: at the top of a
module, inside a function, under ``if TYPE_CHECKING:`` and inside
``with workflow.unsafe.imports_passed_through():``. Read with ``ast``, so nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RANKS = {"models": 0, "workflows": 1, "activities": 2, "osom": 3, "worker": 4, "main": 4}
PACKAGES = ("models", "workflows", "activities", "osom")
MODULES = ("worker.py", "main.py")


def layered_files() -> list[Path]:
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return files + [ROOT / name for name in MODULES if (ROOT / name).is_file()]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, module) of every import anywhere in the tree, relative ones made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name


def layer(module: str) -> str | None:
    top = module.partition(".")[0]
    return top if top in RANKS else None


def violations(path: Path, source: str) -> list[str]:
    """Each import of ``path`` from a layer above its own, as ``file:line imports X (layer)
    from Y (layer)``."""
    module = module_name(path)
    own = layer(module)
    assert own is not None, path
    found = []
    for line, name in imported(ast.parse(source, str(path)), module, path.name == "__init__.py"):
        target = layer(name)
        if target is not None and RANKS[target] > RANKS[own]:
            found.append(
                f"{path.relative_to(ROOT)}:{line} imports {name} ({target}, layer "
                f"{RANKS[target]}) from {own} (layer {RANKS[own]})"
            )
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    found = [
        violation
        for path in layered_files()
        for violation in violations(path, path.read_text(encoding="utf-8"))
    ]
    assert not found, "imports from a higher layer:\n" + "\n".join(found)


def test_every_layer_is_read() -> None:
    names = {module_name(path).partition(".")[0] for path in layered_files()}
    assert names == set(RANKS)


def test_sub_packages_are_read_as_part_of_their_layer() -> None:
    """The record store is a package inside activities, with its migrations: every module of
    it is checked, as activities (layer 2)."""
    modules = {module_name(path) for path in layered_files()}
    assert {
        "activities.record",
        "activities.record.store",
        "activities.record.chain",
        "activities.record.schema",
        "activities.record.migrations.env",
    } <= modules
    assert any(m.startswith("activities.record.migrations.versions.") for m in modules)
    assert {layer(m) for m in modules if m.startswith("activities.record")} == {"activities"}


def test_the_record_store_imports_nothing_above_activities() -> None:
    """It may use models (what it hands back) but no front door (osom) and no worker."""
    folder = ROOT / "activities" / "record"
    found = {
        name
        for path in sorted(folder.rglob("*.py"))
        for _, name in imported(
            ast.parse(path.read_text(encoding="utf-8")),
            module_name(path),
            path.name == "__init__.py",
        )
        if layer(name) is not None
    }
    assert {layer(name) for name in found} <= {"models", "activities"}
    assert "models.record" in found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import worker", ["worker"]),
        ("from osom import cases", ["osom"]),
        ("def f():\n    from worker import run_worker", ["worker"]),
        (
            "from temporalio import workflow\n"
            "with workflow.unsafe.imports_passed_through():\n"
            "    from activities.directory import CaseContext",
            ["temporalio", "activities.directory"],
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import osom.api",
            ["typing", "osom.api"],
        ),
        ("from . import _case", ["workflows"]),
        ("from ..activities import files", ["activities"]),
    ],
)
def test_every_kind_of_import_is_seen(source: str, expected: list[str]) -> None:
    names = [name for _, name in imported(ast.parse(source), "workflows._handlers", False)]
    assert names == expected


@pytest.mark.parametrize(
    ("module", "is_package", "source", "expected"),
    [
        ("activities.record.store", False, "from . import chain", "activities.record"),
        ("activities.record.store", False, "from .schema import Base", "activities.record.schema"),
        ("activities.record", True, "from .store import RecordStore", "activities.record.store"),
        ("activities.record.migrations.env", False, "from .. import schema", "activities.record"),
        (
            "activities.record.migrations.versions.r0001",
            False,
            "from ....osom import cases",
            "activities.osom",
        ),
    ],
)
def test_relative_imports_in_a_sub_package_resolve_from_it(
    module: str, is_package: bool, source: str, expected: str
) -> None:
    assert [name for _, name in imported(ast.parse(source), module, is_package)] == [expected]


def test_a_violation_in_a_sub_package_names_its_file() -> None:
    path = ROOT / "activities" / "record" / "_example.py"
    assert violations(path, "from osom.settings import Settings\n") == [
        "activities/record/_example.py:1 imports osom.settings (osom, layer 3) "
        "from activities (layer 2)"
    ]


def test_a_violation_names_the_file_line_and_both_layers() -> None:
    path = ROOT / "workflows" / "_example.py"
    source = "from models.audit import AuditEntry\n\ndef f():\n    from activities.files import x\n"
    assert violations(path, source) == [
        "workflows/_example.py:4 imports activities.files (activities, layer 2) "
        "from workflows (layer 1)"
    ]
