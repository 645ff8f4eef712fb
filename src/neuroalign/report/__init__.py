"""HTML report of neuroalign results: one self-contained file (inline CSS, embedded PNG figures).

:func:`write_report` takes an IATC result, model comparisons, a results-store scores frame, extra
HTML sections and provenance facts, and writes the report; :func:`render_report` returns the HTML
text instead. Figures live in :mod:`neuroalign.report.figures`, the page in
``templates/report.html.j2``.
"""

from __future__ import annotations

from neuroalign.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
