"""Packaging: every module the package imports is declared, and CI runs the README's commands."""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "neuroalign"
#: resolved only when a user names them (``timm:NAME``, ``torchvision:NAME``, ``hf:NAME``); a
#: missing one is a ConfigError that says how to install it
USER_PROVIDED = {"timm", "torchvision", "transformers"}


def _requirements() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(reqs):
        return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}

    extras = {k: names(v) for k, v in project["optional-dependencies"].items()}
    return names(project["dependencies"]), extras


def _imports() -> list[tuple[str, str, bool]]:
    """(module path, top-level imported name, imported at module level) for every import."""
    out = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for m in mods:
                out.append((str(path.relative_to(SRC)), m.split(".")[0], id(node) in top))
    return out


@functools.cache
def _packages() -> dict[str, list[str]]:
    return md.packages_distributions()


def _distributions(name: str) -> set[str]:
    dists = _packages().get(name, [])
    return {d.lower().replace("_", "-") for d in dists}


def test_every_third_party_import_is_a_declared_dependency():
    core, extras = _requirements()
    declared = core.union(*extras.values())
    stdlib = set(sys.stdlib_module_names)
    undeclared = []
    for where, name, _ in _imports():
        if name in stdlib or name == "neuroalign" or name in USER_PROVIDED:
            continue
        dists = _distributions(name)
        if not dists & declared:
            undeclared.append(f"{where}: {name} (from {sorted(dists) or 'nothing installed'})")
    assert not undeclared, "imported but not declared in pyproject.toml:\n" + "\n".join(undeclared)


def test_module_level_imports_need_only_the_core_and_the_torch_extra():
    """What `pip install -e ".[torch]"` gives is enough to import every module (the README's first
    command); other extras are imported lazily, inside the functions that need them."""
    core, extras = _requirements()
    allowed = core | extras["torch"]
    stdlib = set(sys.stdlib_module_names)
    bad = [
        f"{where}: {name}"
        for where, name, top in _imports()
        if top
        and name not in stdlib
        and name != "neuroalign"
        and not _distributions(name) & allowed
    ]
    assert not bad, "module-level imports outside the core and torch extra:\n" + "\n".join(bad)


def test_ci_runs_the_readme_quick_start_verbatim():
    out = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_commands.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    readme = (ROOT / "README.md").read_text()
    assert len(out) == 2
    for cmd in out:
        assert f"```bash\n{cmd}\n```" in readme
    assert out[0].endswith("neuroalign demo") and "[torch]" in out[0]
    assert out[1].endswith("python -m pytest") and "[torch,test]" in out[1]
    run = (ROOT / ".ci" / "run").read_text()
    assert "readme_commands.py" in run and "pip install" not in run  # nothing run but the README's
