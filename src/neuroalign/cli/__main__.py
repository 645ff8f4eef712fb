"""``python -m neuroalign.cli``: the ``neuroalign`` command."""

from neuroalign.cli import app

app(prog_name="neuroalign")
