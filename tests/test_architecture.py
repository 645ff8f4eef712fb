"""The package's layers (docs/architecture.md): no import from a lower layer to a higher one, no
cycle between modules. Function-level (lazy) imports count too: they are dependencies all the same."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "neuroalign"
#: the layers, lowest first; a module may import its own layer and the layers before it
LAYERS = [
    "_core",
    "data",
    "datasets",
    "solvers",
    "transforms",
    "metrics",
    "analysis",
    "models",
    "twin",
    "bench",
    "report",
    "demo",
    "cli",
]


def _module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int | None:
    """Index in LAYERS; None for the package root and its re-export modules (the facade)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    name = ".".join(base + ([node.module] if node.module else []))
                else:
                    name = node.module or ""
                subs = [f"{name}.{a.name}" for a in node.names]
                # `from pkg import submodule` depends on the submodule, not on pkg's re-exports
                targets = subs if all(t in modules for t in subs) else [name, *subs]
            else:
                continue
            for t in targets:
                if t in modules and t != mod:
                    graph[mod].add(t)
    return graph


def test_layers_in_the_architecture_doc_match_this_list():
    doc = (SRC.parent / "docs" / "architecture.md").read_text()
    for layer in LAYERS:
        assert f"`{layer}" in doc, f"docs/architecture.md does not describe the layer {layer}"


def test_no_module_imports_a_higher_layer():
    bad = []
    for mod, deps in _graph().items():
        lm = _layer(mod)
        for d in deps:
            ld = _layer(d)
            if lm is not None and (ld is None or ld > lm):
                bad.append(
                    f"{mod} ({LAYERS[lm]}) imports {d} ({'root' if ld is None else LAYERS[ld]})"
                )
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(m, path):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(" → ".join(path[path.index(d) :] + [d]))
            elif d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package __init__ re-exporting its own modules is not a cycle of ideas
    cycles = [c for c in cycles if not _only_package_reexports(c)]
    assert not cycles, "\n".join(cycles)


def _only_package_reexports(cycle: str) -> bool:
    mods = cycle.split(" → ")
    return any(
        a != b and (b.startswith(a + ".") or a.startswith(b + "."))
        for a, b in zip(mods, mods[1:], strict=False)
    )


@pytest.mark.parametrize("limit", [500])
def test_no_module_over_the_size_limit_without_a_reason(limit):
    """Modules stay small; a longer one says why in its docstring ("Longer than ...")."""
    long = []
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > limit and "Longer than" not in (
            ast.get_docstring(ast.parse(text)) or ""
        ):
            long.append(f"{path.relative_to(PKG)}: {text.count(chr(10))} lines")
    assert not long, "\n".join(long)
