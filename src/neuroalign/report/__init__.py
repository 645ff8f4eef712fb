"""HTML report of neuroalign results: one self-contained file (inline CSS, embedded PNG figures).

:func:`write_report` takes an IATC result, model comparisons, a results-store scores frame, extra
sections and provenance facts, and writes the report; :func:`render_report` returns the HTML
text instead; :func:`load_results` reads stores and result files into those inputs. Figures live
in :mod:`neuroalign.report.figures`, the page in ``templates/report.html.j2``, best layers and the
leaderboard in :mod:`neuroalign.report.summaries`.
"""

from __future__ import annotations

from neuroalign.report.html import render_report, write_report
from neuroalign.report.sources import Results, load_results

__all__ = ["Results", "load_results", "render_report", "write_report"]
