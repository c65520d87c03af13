"""No import circle in the package, counting imports under ``if TYPE_CHECKING:`` too.

Importing each module alone does not catch a circle that only the type checker walks (one such
circle stood between the sandbox's server and its control API), so this reads the imports from
the source with ``ast`` and lets ``graphlib`` find any circle.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import green_api_block

ROOT = Path(green_api_block.__file__).parent


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:  # `from pkg import obj` lands on pkg
        name = name.rpartition(".")[0]
    return name or None


def _imports(package: str, module: str, path: Path, known: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    base = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                prefix = f"{anchor}.{node.module}" if node.module else anchor
            else:
                prefix = node.module or ""
            # `from . import notifications` names a submodule; `from .x import Y` names module x.
            targets = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for target in targets:
            if target == package or target.startswith(package + "."):
                resolved = _resolve(target, known)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its source."""
    known = {_module_name(root, p): p for p in root.rglob("*.py")}
    graph = {m: _imports(root.name, m, p, known) for m, p in known.items()}
    # A package's __init__ re-exporting its submodules is not a dependency of theirs on it:
    # without this, every `from green_api_block import X` inside a submodule reads as a circle.
    for module, deps in graph.items():
        deps.difference_update(d for d in list(deps) if module.startswith(d + ".") and d in known)
    return graph


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_the_import_graph_has_no_circle() -> None:
    circle = _circle(import_graph())
    assert circle is None, f"import circle: {' -> '.join(circle or [])}"


def test_the_graph_reads_relative_absolute_and_local_imports() -> None:
    graph = import_graph()
    assert "green_api_block.sandbox.state" in graph["green_api_block.sandbox.emulator"]  # from .state
    assert "green_api_block.background" in graph["green_api_block.sandbox.server"]  # from ..background
    # cli/demo.py imports the sandbox inside a function, to keep the CLI's start-up light.
    assert "green_api_block.sandbox" in graph["green_api_block.cli.demo"]


def test_a_circle_only_the_type_checker_walks_is_reported(tmp_path: Path) -> None:
    pkg = tmp_path / "ring"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "server.py").write_text("from .control import add_routes\n")
    (pkg / "control.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .server import Server\n"
    )
    circle = _circle(import_graph(pkg))
    assert circle is not None and set(circle) == {"ring.server", "ring.control"}
