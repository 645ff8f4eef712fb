"""Print the README's quick-start commands, one per line: the fenced ``bash`` blocks of its
"## Quick start" section, in order. `.ci/run` runs exactly these, so CI and README cannot drift."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def quick_start_commands(readme: str) -> list[str]:
    """The one-line commands of the fenced ``bash`` blocks under "## Quick start"."""
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M)
    if section is None:
        raise SystemExit("README.md has no '## Quick start' section")
    blocks = re.findall(r"^```bash\n(.*?)^```", section.group(1), re.S | re.M)
    commands = [" ".join(b.split("\n")).strip() for b in blocks]
    if len(commands) != 2 or any("\\" in c for c in commands):
        raise SystemExit(f"expected two one-line bash commands in the quick start, got {commands}")
    return commands


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    sys.stdout.write("\n".join(quick_start_commands(readme)) + "\n")
