"""Fuzzing the command line's argument parsing (hypothesis): whatever the user types, the command
gives a result (or, for a group without a subcommand, its help) or exactly one line on stderr with exit code 1 (bad data) or 2 (bad usage); never a
traceback, never "unexpected". Every case fails before any computation starts.
"""

from __future__ import annotations

import contextlib
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from neuroalign.cli import app

runner = CliRunner()
# user text leans on what breaks parsers and rich: markup brackets, separators, signs, escapes
TEXT = st.text(alphabet=st.sampled_from("[]/=,-:.0123456789abcxyz _\\\"'é\t"), max_size=24)
OPTIONS = st.lists(
    st.one_of(st.sampled_from(["--json", "--seed", "-o", "--bogus", "--", "-"]), TEXT), max_size=3
)

TEMPLATES = {
    "score model": lambda t: ["score", t, "synthetic.relu", "--no-store"],
    "score param": lambda t: [
        "score",
        "small_cnn",
        "synthetic.relu",
        "--param",
        t,
        "--layer",
        "nolayer",
        "--no-store",
    ],  # fmt: skip
    "score benchmark": lambda t: ["score", "small_cnn", t, "--no-store"],
    "datasets info": lambda t: ["datasets", "info", t],
    "reliability": lambda t: ["reliability", t, "--data-dir", "/nonexistent"],
    "iatc": lambda t: ["iatc", t, "--no-store"],
    "report": lambda t: ["report", t or ".", "-o", "out.html"],
    "leaderboard": lambda t: ["leaderboard", "--store", t or "."],
    "twin neurons": lambda t: ["twin", "poles", "--neurons", t, "--data-dir", "/nonexistent"],
    "sweep seeds": lambda t: [
        "sweep",
        "--models",
        "nonet",
        "--benchmarks",
        "synthetic.relu",
        "--seeds",
        t,
        "--store",
        "s.sqlite",
    ],  # fmt: skip
    "compare": lambda t: ["compare", t, "-b", "synthetic.relu", "--no-store"],
    "own data": lambda t: [
        "score",
        "small_cnn",
        "--responses",
        t or "r.npy",
        "--stimuli",
        t,
        "--window",
        t,
        "--no-store",
    ],  # fmt: skip
}


def check(args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        res = runner.invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.exception)
    assert res.exit_code in (0, 1, 2), (args, res.exit_code, res.output)
    assert "Traceback" not in res.output and "please report it" not in res.output, (
        args,
        res.output,
    )
    if res.exit_code and not (res.exit_code == 2 and not res.stderr and "Usage:" in res.stdout):
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, res.stderr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(sorted(TEMPLATES)), text=TEXT, extra=OPTIONS)
def test_any_argument_gives_a_result_or_one_line(template, text, extra):
    check([*TEMPLATES[template](text), *extra])


@settings(max_examples=60, deadline=None)
@given(tokens=st.lists(TEXT, max_size=4))
def test_any_command_line_gives_a_result_or_one_line(tokens):
    check(tokens)
