"""The package's import directions (docs/architecture.md), read from the source with ``ast``.

Every ``import`` counts, at module level or inside a function: a function-level import that
closes a loop is still a loop, only a later one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mmutils"

#: (importer prefix, what it may import of mmutils: prefixes; None = anything not forbidden)
ALLOWED = {
    "mmutils.formats": ("mmutils.formats",),
    "mmutils.analyzer": ("mmutils.analyzer", "mmutils.formats"),
}
#: (importer prefix, prefixes it must never import)
FORBIDDEN = {
    "mmutils.emulator": ("mmutils.lab", "mmutils.viz", "mmutils.cli"),
    "mmutils.viz": ("mmutils.emulator",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The mmutils modules ``name`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "mmutils" or target.startswith("mmutils."):
                # `import mmutils.a.b` names a module; keep the longest prefix that is one
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def forbidden_edges(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            for prefix, allowed in ALLOWED.items():
                if _within(src, prefix) and not any(_within(dst, a) for a in allowed):
                    bad.append(f"{src} -> {dst} ({prefix} may import only {', '.join(allowed)})")
            for prefix, never in FORBIDDEN.items():
                if _within(src, prefix) and any(_within(dst, n) for n in never):
                    bad.append(f"{src} -> {dst} ({prefix} must not import {', '.join(never)})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_import_directions():
    bad = forbidden_edges(import_graph())
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    loops = cycles(import_graph())
    assert not loops, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in loops)


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    # the checker itself must be able to fail: a synthetic package with a hidden loop
    graph = {"mmutils.a": {"mmutils.b"}, "mmutils.b": {"mmutils.a"}, "mmutils.c": set()}
    assert cycles(graph) == [["mmutils.a", "mmutils.b"]]
    assert forbidden_edges({"mmutils.analyzer.x": {"mmutils.lab.session"}})
    assert forbidden_edges({"mmutils.formats.x": {"mmutils.analyzer.jsonfmt"}})
    assert forbidden_edges({"mmutils.emulator.x": {"mmutils.viz.tables"}})
    assert not forbidden_edges({"mmutils.analyzer.x": {"mmutils.formats.reports"}})

    src = tmp_path / "mod.py"
    src.write_text("def f():\n    from mmutils.lab import session\n    import mmutils.viz\n")
    modules = {"mmutils.lab.session": src, "mmutils.viz": src, "mmutils.x": src}
    assert imports_of("mmutils.x", src, modules) == {"mmutils.lab.session", "mmutils.viz"}


@pytest.mark.parametrize("package", ["mmutils.formats", "mmutils.analyzer"])
def test_pure_packages_do_not_reach_the_session_layer(package):
    graph = import_graph()
    reached = {dst for src, targets in graph.items() if _within(src, package) for dst in targets}
    assert not {d for d in reached if _within(d, "mmutils.lab") or _within(d, "mmutils.emulator")}
