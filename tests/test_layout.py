"""The layout's rules: the engine never loads a GUI toolkit, the widget logic needs no Qt, no import circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "napari_dip"


def modules(folder: str) -> list[str]:
    """Every module under ``folder`` of the package, as dotted names."""
    root = PACKAGE.parent
    return sorted(".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                  for path in (PACKAGE / folder).rglob("*.py"))


def loaded_after_importing(names: list[str]) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after importing ``names``."""
    code = f"import sys\nfor name in {names!r}: __import__(name)\nprint(' '.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in result.stdout.split()}


GUI_TOOLKITS = {"qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "superqt", "magicgui", "vispy"}


def test_every_core_module_imports_without_napari_or_qt():
    loaded = loaded_after_importing(modules("core"))
    assert not loaded & (GUI_TOOLKITS | {"napari"}), sorted(loaded & (GUI_TOOLKITS | {"napari"}))


def test_the_widget_logic_imports_without_qt():
    loaded = loaded_after_importing(modules("gui"))
    assert not loaded & GUI_TOOLKITS, sorted(loaded & GUI_TOOLKITS)


def module_path(name: str) -> Path:
    """The file of the package module ``name``."""
    path = PACKAGE.parent / Path(*name.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"


def module_imports(name: str) -> set[str]:
    """The package modules ``name`` imports, at module level or inside its functions."""
    path = module_path(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: from the module's package up
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("napari_dip"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("napari_dip"))
    return found


def test_no_module_imports_itself_through_others():
    names = set(modules("."))
    # A package's __init__ runs before its modules: importing it from one of them is no circle.
    graph = {name: {other for other in module_imports(name) & names if not name.startswith(other + ".")}
             for name in names}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                pytest.fail("import circle: " + " -> ".join(path[path.index(other):] + [other]))
            if other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
