"""The HTML report: self-contained, every section with its figure, escaped, exact numbers, empty inputs.

The results come from the real code path (``make_population`` → ``estimate_iatc`` → ``compare``) at
toy sizes; the tables are read back from the ``data-value`` attributes with a stdlib HTML parser and
compared with the result tables value for value.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from neuroalign import __version__
from neuroalign.compare import compare
from neuroalign.data.synthetic import make_population
from neuroalign.errors import ConfigError, DataError
from neuroalign.iatc import estimate_iatc
from neuroalign.report import render_report, write_report

EVIL = "<script>alert('x')</script> & $x$"
NET, RANDOM = "net", f"random {EVIL}"


def build_results(seed: int = 0) -> dict:
    """Small real results: an IATC (3 classes, 2 areas), two model comparisons (a 2-layer "network"
    and random features with a hostile name), a hand-made scores frame, an extra section and
    provenance; the keyword arguments of :func:`write_report`."""
    pop = make_population(
        n_subjects=3, n_areas=2, units_per_subject=8, n_stimuli=60, n_repeats=4, seed=seed
    )
    kw = {"n_folds": 3, "n_draws": 2, "seed": seed, "show_progress": False}
    iatc = estimate_iatc(pop.data, ["one_to_one", "procrustes", "ridge"], n_boot=50, **kw)
    rng = np.random.default_rng(seed)
    net = {
        f"layer{i + 1}": pop.features(a) @ rng.normal(size=(pop.features(a).shape[1], 40))
        for i, a in enumerate(pop.areas)
    }
    comparisons = {
        NET: compare(net, pop.data, "ridge", **kw),
        RANDOM: compare({"features": rng.normal(size=(60, 30))}, pop.data, "ridge", **kw),
    }
    n = 8
    scores = pd.DataFrame(
        {
            "model": [NET] * 4 + [RANDOM] * 4,
            "layer": ["layer1", "layer2"] * 4,
            "benchmark": "synthetic<area1>",
            "direction": ["forward", "forward", "reverse", "reverse"] * 2,
            "raw": rng.uniform(size=n),
            "ceiling": 0.8,
            "normalised": rng.uniform(size=n),
            "error": [0.01] * (n - 1) + [np.nan],
            "seed": seed,
            "key": [f"k{i}" for i in range(n)],
            "created": "2025-01-01T00:00:00",
        }
    )
    # the store's frame also holds neural-only rows and extra columns (shown after the standard ones)
    iatc_row = {"model": "animals", "layer": "-", "benchmark": "synthetic<area1>"}
    iatc_row |= {"direction": "iatc", "raw": 0.5, "ceiling": np.nan, "normalised": np.nan}
    iatc_row |= {"error": np.nan, "seed": seed, "key": "k8", "created": "2025-01-01T00:00:00"}
    scores = pd.concat([scores, pd.DataFrame([iatc_row])], ignore_index=True)
    scores["benchmark_version"] = 1
    return {
        "title": f"report of {EVIL}",
        "iatc": iatc,
        "comparisons": comparisons,
        "scores": scores,
        "sections": [("Digital <twin>", '<p id="twin-fragment">dual <b>selectivity</b></p>')],
        "provenance": {"dataset_sha256": "ab" * 32, "note": EVIL, "seed": 7},
    }


class ReportParser(HTMLParser):
    """Collects sections (id → images, captions, notes), tables (id → columns, rows of
    ``(text, data-value)``) and every attribute that could point at a resource."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, dict] = {}
        self.tables: dict[str, dict] = {}
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.title = ""
        self._sec = self._table = self._cell = None
        self._text: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "poster", "data") and v is not None:
                self.links.append((tag, k, v))
        if tag == "title":
            self._in_title = True
        elif tag == "section":
            self._sec = self.sections.setdefault(
                a["id"], {"imgs": [], "captions": [], "notes": [], "title": "", "text": []}
            )
        elif tag == "img" and self._sec is not None:
            self._sec["imgs"].append(a)
        elif tag == "table":
            self._table = self.tables.setdefault(a["id"], {"columns": [], "rows": []})
        elif tag == "th" and self._table is not None:
            self._table["columns"].append(a.get("data-col"))
        elif tag == "tr" and self._table is not None:
            self._table["rows"].append([])
        elif tag == "td" and self._table is not None:
            self._cell = a.get("data-value")
            self._text = []
        elif tag in ("figcaption", "h2") or (tag == "p" and a.get("class") == "note"):
            self._text = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "section":
            self._sec = None
        elif tag == "table":
            self._table = None
        elif tag == "td" and self._table is not None:
            self._table["rows"][-1].append(("".join(self._text), self._cell))
            self._text = None
        elif tag == "figcaption" and self._sec is not None:
            self._sec["captions"].append("".join(self._text))
            self._text = None
        elif tag == "h2" and self._sec is not None:
            self._sec["title"] = "".join(self._text)
            self._text = None
        elif tag == "p" and self._text is not None and self._sec is not None:
            self._sec["notes"].append("".join(self._text))
            self._text = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._text is not None:
            self._text.append(data)
        if self._sec is not None:
            self._sec["text"].append(data)


def parse(html: str) -> ReportParser:
    p = ReportParser()
    p.feed(html)
    p.close()
    return p


def table_frame(p: ReportParser, table_id: str, values: bool = True) -> pd.DataFrame:
    """A parsed table as a DataFrame: exact ``data-value`` values (numbers as float, true/false as
    bool) where a cell has one, else its text."""
    t = p.tables[table_id]
    rows = [r for r in t["rows"] if r]

    def conv(text, value):
        if not values or value is None:
            return text
        if value in ("true", "false"):
            return value == "true"
        return float(value)

    return pd.DataFrame([[conv(*c) for c in r] for r in rows], columns=t["columns"])


def assert_column_equal(got, want, name=""):
    got, want = list(got), list(want)
    assert len(got) == len(want), name
    for g, w in zip(got, want, strict=True):
        if isinstance(w, (float, np.floating)) and math.isnan(w):
            assert isinstance(g, float) and math.isnan(g), (name, g, w)
        elif isinstance(w, (bool, np.bool_)):
            assert g is bool(w), (name, g, w)
        elif isinstance(w, (int, float, np.integer, np.floating)):
            assert g == float(w), (name, g, w)  # exact: the report keeps the full value
        else:
            assert g == str(w), (name, g, w)


@pytest.fixture(scope="module")
def inputs():
    return build_results()


@pytest.fixture(scope="module")
def report(inputs, tmp_path_factory):
    path = write_report(tmp_path_factory.mktemp("report") / "sub" / "report.html", **inputs)
    html = path.read_text(encoding="utf-8")
    return path, html, parse(html)


SECTIONS = {  # id → number of figures with full inputs
    "iatc": 1,
    "predictivity-specificity": 1,
    "forward-reverse": 1,
    "layers": 2,
    "units": 1,
    "scores": 1,
    "extra-1": 0,
    "provenance": 0,
}


def test_write_report_returns_the_path_of_one_html_file(report):
    path, html, _ = report
    assert path.is_file() and path.suffix == ".html"
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, no temp file left


def test_self_contained(report):
    _, html, p = report
    assert p.links, "the parser saw no src/href at all"
    for tag, attr, value in p.links:
        v = value.strip().lower()
        assert not v.startswith(("http:", "https:", "//", "ftp:")), (tag, attr, value)
        if tag == "img":
            assert v.startswith("data:image/png;base64,"), (tag, attr, value[:40])
        elif attr == "href":
            assert v.startswith(("#", "data:")), (tag, attr, value)
    assert "http://" not in html and "https://" not in html
    assert "script" not in p.tags and "iframe" not in p.tags
    assert "@import" not in html and "url(" not in html


def test_every_section_present_with_its_figures(report):
    _, _, p = report
    assert list(p.sections) == list(SECTIONS)
    for sid, n in SECTIONS.items():
        sec = p.sections[sid]
        assert len(sec["imgs"]) == n, sid
        assert len(sec["captions"]) == n, sid
        assert not sec["notes"], (sid, sec["notes"])  # nothing "not computed" with full inputs
        for img, caption in zip(sec["imgs"], sec["captions"], strict=True):
            assert len(img["alt"]) > 20 and len(caption) > 20
            png = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    assert p.sections["extra-1"]["title"] == "Digital <twin>"
    assert 'id="twin-fragment"' in report[1]  # the fragment is inserted as HTML


def test_strings_from_data_are_escaped(report, inputs):
    _, html, p = report
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<twin>" not in html and "<area1>" not in html
    assert p.title == inputs["title"]
    models = table_frame(p, "masquerade-table", values=False)["model"]
    assert set(models) == {NET, RANDOM}
    params = table_frame(p, "parameters-table")
    assert "provided" in set(params["source"])
    assert EVIL in set(params["value"])  # shown as text, exactly


def test_iatc_table_equals_the_result(report, inputs):
    iatc = inputs["iatc"]
    got = table_frame(report[2], "iatc-table")
    assert list(got.columns) == [
        "transform",
        "median_ev",
        "ci_low",
        "ci_high",
        "indistinguishable",
        "silhouette",
        "selected",
    ]
    want = iatc.accuracy.merge(iatc.specificity, on="transform")
    assert len(got) == len(iatc.accuracy)
    for col in ("transform", "median_ev", "ci_low", "ci_high", "indistinguishable", "silhouette"):
        assert_column_equal(got[col], want[col], col)
    assert_column_equal(got["selected"], want["transform"].isin(iatc.selected), "selected")
    assert iatc.selected and any(got["selected"])


def test_masquerade_table_equals_the_summaries(report, inputs):
    got = table_frame(report[2], "masquerade-table")
    want = pd.concat(
        [c.summary.assign(model=name) for name, c in inputs["comparisons"].items()],
        ignore_index=True,
    )
    assert len(got) == len(want) == 2 * 2 * 2 + 1 * 2 * 2  # (layers × areas × directions)
    for col in got.columns:
        assert_column_equal(got[col], want[col], col)


def test_units_table_counts_and_cutoffs(report, inputs):
    got = table_frame(report[2], "units-table")
    rows = []
    for name, c in inputs["comparisons"].items():
        for (layer, area), g in c.units.groupby(["layer", "area"], sort=False):
            ev = g["mean_reverse_ev"].to_numpy()
            ok = np.isfinite(ev)
            lo, hi = np.percentile(ev[ok], [20, 80])
            n_common = int((g["category"] == "common").sum())
            n_unique = int((g["category"] == "unique").sum())
            rows.append(
                {
                    "model": name,
                    "layer": layer,
                    "area": area,
                    "n_units": len(g),
                    "n_common": n_common,
                    "n_unique": n_unique,
                    "frac_common": n_common / ok.sum(),
                    "frac_unique": n_unique / ok.sum(),
                    "cut_unique": lo,
                    "cut_common": hi,
                    # the cut-offs are the ones compare() used to label the units
                    "check": g.loc[g["category"] == "common", "mean_reverse_ev"].min() >= hi
                    and g.loc[g["category"] == "unique", "mean_reverse_ev"].max() <= lo,
                }
            )
    want = pd.DataFrame(rows)
    assert want["check"].all()
    assert len(got) == len(want) == 6
    for col in want.columns.drop("check"):
        assert_column_equal(got[col], want[col], col)


def test_scores_table_equals_the_frame(report, inputs):
    got = table_frame(report[2], "scores-table")
    want = inputs["scores"]
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        assert_column_equal(got[col], want[col], col)


def test_shown_numbers_are_the_values_rounded(report):
    _, _, p = report
    checked = 0
    for t in p.tables.values():
        for row in t["rows"]:
            for text, value in row:
                if value in (None, "true", "false"):
                    continue
                v = float(value)
                if math.isnan(v):
                    assert text == "—"
                    continue
                assert float(text) == pytest.approx(v, rel=5e-3, abs=5e-4), (text, value)
                checked += 1
    assert checked > 100


def test_provenance(report, inputs):
    _, _, p = report
    env = table_frame(p, "environment-table", values=False)
    assert dict(zip(env["item"], env["value"], strict=True))["neuroalign"] == __version__
    seeds = table_frame(p, "seeds-table", values=False)
    assert {"IATC", f"comparison: {NET}", "provided"} <= set(seeds["source"])
    checks = table_frame(p, "checksums-table", values=False)
    assert "ab" * 32 in set(checks["checksum"])
    params = table_frame(p, "parameters-table", values=False)
    iatc_params = params[params["source"] == "IATC"].set_index("parameter")["value"]
    assert iatc_params["n_draws"] == "2" and iatc_params["version"] == __version__


def test_empty_inputs_give_notes(tmp_path):
    empty_scores = pd.DataFrame(columns=["model", "layer", "benchmark", "direction"])
    path = write_report(tmp_path / "empty.html", scores=empty_scores, comparisons={})
    p = parse(path.read_text())
    assert list(p.sections) == [s for s in SECTIONS if not s.startswith("extra")]
    for sid, sec in p.sections.items():
        assert not sec["imgs"], sid
        if sid != "provenance":
            assert sec["notes"] and sec["notes"][0].startswith("Not computed"), sid
    assert "environment-table" in p.tables


def test_iatc_with_one_area_has_no_specificity(inputs):
    iatc = dataclasses.replace(inputs["iatc"], specificity=None)
    html = render_report(iatc=iatc)
    p = parse(html)
    assert len(p.sections["iatc"]["imgs"]) == 1
    assert not p.sections["predictivity-specificity"]["imgs"]
    assert "2 brain areas" in p.sections["predictivity-specificity"]["notes"][0]
    got = table_frame(p, "iatc-table")
    assert got["silhouette"].isna().all()
    assert_column_equal(got["median_ev"], iatc.accuracy["median_ev"])


def test_scores_only(inputs):
    p = parse(render_report(scores=inputs["scores"]))
    assert len(p.sections["layers"]["imgs"]) == 1 and not p.sections["layers"]["notes"]
    assert len(p.sections["scores"]["imgs"]) == 1
    assert p.sections["forward-reverse"]["notes"]


def test_bad_inputs_are_refused(inputs, tmp_path):
    with pytest.raises(ConfigError, match="ComparisonResult"):
        write_report(tmp_path / "x.html", comparisons={"m": inputs["scores"]})
    with pytest.raises(ConfigError, match="IATCResult"):
        write_report(tmp_path / "x.html", iatc=inputs["comparisons"][NET])
    with pytest.raises(DataError, match="benchmark"):
        write_report(tmp_path / "x.html", scores=pd.DataFrame({"model": ["a"], "layer": ["b"]}))
    with pytest.raises(ConfigError, match="self-contained"):
        write_report(tmp_path / "x.html", sections=[("t", '<img src="https://example.org/a.png">')])
    with pytest.raises(ConfigError, match="pair"):
        write_report(tmp_path / "x.html", sections=["just a string"])
    with pytest.raises(ConfigError, match="DataFrame"):
        write_report(tmp_path / "x.html", sections=[("t", 3)])
    assert not (tmp_path / "x.html").exists()


def test_scatter_points_are_the_summaries_and_animal_pairs(inputs):
    from neuroalign.report.frames import animal_points, model_points

    cmp = inputs["comparisons"][NET]
    pts = model_points({NET: cmp})
    s = cmp.summary.set_index(["layer", "area", "direction"])["model_median_ev"]
    assert len(pts) == 4
    for r in pts.itertuples():
        assert r.forward == s[r.layer, r.area, "forward"]
        assert r.reverse == s[r.layer, r.area, "reverse"]
    a = animal_points(inputs["comparisons"])  # duplicates across comparisons dropped
    ev = cmp.animals.set_index(["area", "source", "target"])["median_ev"]
    assert len(a) == len(cmp.animals)
    for r in a.itertuples():
        assert r.forward == ev[r.area, r.source, r.target]
        assert r.reverse == ev[r.area, r.target, r.source]


def test_a_layer_without_valid_units_still_renders(inputs):
    cmp = inputs["comparisons"][RANDOM]
    units = cmp.units.assign(mean_reverse_ev=np.nan, category="invalid")
    broken = dataclasses.replace(cmp, units=units)
    p = parse(render_report(comparisons={"broken": broken}))
    got = table_frame(p, "units-table")
    assert (got["n_invalid"] == got["n_units"]).all()
    assert got[["frac_common", "cut_unique", "cut_common"]].isna().all().all()
    assert len(p.sections["units"]["imgs"]) == 1


def test_model_columns_are_the_models_given(report, inputs):
    """The masquerade and units tables name each row's model as given (not its area)."""
    _, _, p = report
    for tid, per_model in (("masquerade-table", "summary"), ("units-table", None)):
        got = table_frame(p, tid, values=False)
        want = []
        for name, c in inputs["comparisons"].items():
            keys = c.summary if per_model else c.units.drop_duplicates(["layer", "area"])
            want += [(name, la, ar) for la, ar in zip(keys["layer"], keys["area"], strict=True)]
        assert list(zip(got["model"], got["layer"], got["area"], strict=True)) == want, tid


def test_a_dataframe_section_is_a_table():
    df = pd.DataFrame({"control": ["a", "b"], "passed": [True, False], "value": [0.5, np.nan]})
    p = parse(render_report(sections=[("Controls <x>", df)]))
    got = table_frame(p, "extra-1-table")
    assert list(got.columns) == ["control", "passed", "value"]
    assert_column_equal(got["passed"], df["passed"])
    assert_column_equal(got["value"], df["value"])
    assert p.sections["extra-1"]["title"] == "Controls <x>"


# ---------------------------------------------------------------------------- figures of scores
def _capture(monkeypatch):
    """The matplotlib figures the score figures draw (their PNG is still made)."""
    from neuroalign.report import score_figures as S

    drawn = []

    def keep(fig):
        drawn.append(fig)
        return png(fig)

    png = S.png_data_uri
    monkeypatch.setattr(S, "png_data_uri", keep)
    return S, drawn


def many_models(n_single: int = 14, n_multi: int = 4, nulls: bool = True) -> pd.DataFrame:
    """A scores frame: ``n_single`` models at one layer (the demo's case), ``n_multi`` models
    with 3 or 4 layers of their own; optionally null and interval columns."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n_single + n_multi):
        layers = ["-"] if i < n_single else [f"m{i}.l{k}" for k in range(3 + i % 2)]
        for d in ("forward", "reverse"):
            for la in layers:
                v = float(rng.uniform(10, 90))
                row = {"model": f"model {i}", "layer": la, "benchmark": "b", "direction": d,
                       "raw": v / 2, "ceiling": 50.0, "normalised": v, "error": 1.0}  # fmt: skip
                if nulls:
                    row |= {"null": v / 10, "ci_low": v - 2, "ci_high": v + 2, "above_null": v > 20}
                rows.append(row)
    return pd.DataFrame(rows)


def _legend_clear_of_the_data(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(r)
    for ax in fig.axes:
        a = ax.get_window_extent(r)
        assert box.x0 >= a.x1 or box.x1 <= a.x0 or box.y0 >= a.y1 or box.y1 <= a.y0


def test_layer_profiles_never_join_two_models(monkeypatch):
    S, drawn = _capture(monkeypatch)
    scores = many_models()
    S.score_curves_figure(scores)
    (fig,) = drawn
    multi = {
        m: g["layer"].nunique() for m, g in scores.groupby("model") if g["layer"].nunique() > 1
    }
    for ax in fig.axes:  # one panel per direction, one line per multi-layer model
        lines = ax.get_lines()
        assert sorted(len(ln.get_xdata()) for ln in lines) == sorted(multi.values())
    _legend_clear_of_the_data(fig)
    # models compared at one layer each have no profile at all (the demo): no figure, a note
    single = scores[scores["layer"] == "-"]
    assert S.score_curves_figure(single) is None
    comparisons = build_results()["comparisons"]
    one = {f"model {i}": comparisons[RANDOM] for i in range(3)}
    p = parse(render_report(comparisons=one, scores=single))
    assert not p.sections["layers"]["imgs"]
    assert "single layer" in p.sections["layers"]["notes"][0]


def test_ranking_stays_legible_with_many_models(monkeypatch):
    S, drawn = _capture(monkeypatch)
    scores = many_models()
    assert S.score_ranking_figure(scores) is not None
    (fig,) = drawn
    (ax,) = fig.axes
    # one row per model, each at its own height: nothing piles up on one position
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(scores["model"].unique())
    from matplotlib.collections import PathCollection

    markers = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() != "null"]
    points = [y for c in markers for y in c.get_offsets()[:, 1]]
    assert len(points) == 2 * scores["model"].nunique()  # forward and reverse per model
    assert len(points) == len(set(points))
    _legend_clear_of_the_data(fig)


def test_null_and_interval_beside_the_score(inputs):
    scores = inputs["scores"].assign(null=0.01, ci_low=0.1, ci_high=0.9, above_null=True)
    scores["p_null"] = np.nan  # all NaN: not shown
    p = parse(render_report(scores=scores))
    got = table_frame(p, "scores-table")
    cols = list(got.columns)
    assert cols[cols.index("error") + 1 : cols.index("error") + 5] == [
        "null", "above_null", "ci_low", "ci_high"
    ]  # fmt: skip
    assert "p_null" not in cols
    assert_column_equal(got["null"], scores["null"])
    assert "null" in p.sections["scores"]["captions"][0] or "null" in " ".join(
        p.sections["scores"]["text"]
    )
    # NaN everywhere or no such columns at all: the report still renders
    for frame in (scores.assign(null=np.nan, ci_low=np.nan, ci_high=np.nan), inputs["scores"]):
        q = parse(render_report(scores=frame))
        assert len(q.sections["scores"]["imgs"]) == 1


def test_load_results_keys_comparisons_by_model(tmp_path, inputs):
    from neuroalign.report import load_results

    c = inputs["comparisons"][NET]
    c.to_json(tmp_path / "mynet.json")
    res = load_results([tmp_path / "mynet.json"])
    assert list(res.comparisons) == ["mynet"]
    assert set(res.scores["model"]) == {"mynet"}
    with pytest.raises(DataError, match="folder"):
        load_results([tmp_path])
