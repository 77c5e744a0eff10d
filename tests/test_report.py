"""`kursk-da report`: self-contained HTML (embedded, decodable PNGs only), Markdown, atomic."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from kursk_da.cli import main
from kursk_da.io import load_result_set, options_frame, options_table, save_result_set
from kursk_da.report import (
    HTML_NAME,
    MARKDOWN_NAME,
    brief_numbers,
    build_document,
    explore,
    explorer_data,
    format_estimate,
    format_with_error,
    round_to_mcse,
    write_report,
)
from kursk_da.report._document import Document, Section, Table
from kursk_da.report._render import render_html, render_markdown
from kursk_da.report._sections import options_display

matplotlib.use("Agg")

_URL_ATTRS = {"src", "href", "srcset", "data", "action", "poster", "background", "formaction"}
_FORBIDDEN_TAGS = {"link", "iframe", "object", "embed", "base", "video", "audio",
                   "source", "track", "frame"}
# an inline script (the weight explorer) may not reach the network
_NETWORK_JS = ("http:", "https:", "//cdn", "fetch(", "XMLHttpRequest", "WebSocket", "import(",
               "sendBeacon", "EventSource", "importScripts", ".src =", "src=")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in_style = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in_style = tag == "style"
        self._in_script = tag == "script"
        for k, v in attrs:
            if k in _URL_ATTRS:
                self.refs.append((tag, k, v or ""))
            if k == "style":
                self.styles.append(v or "")

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        if self._in_script:
            self.scripts.append(data)


def check_self_contained(html_text: str) -> list[bytes]:
    """Assert the HTML references nothing outside itself; return the embedded PNGs."""
    p = _Refs()
    p.feed(html_text)
    assert not (p.tags & _FORBIDDEN_TAGS), p.tags & _FORBIDDEN_TAGS
    for css in p.styles:
        assert "url(" not in css and "@import" not in css
    for js in p.scripts:  # inline only (a src= attribute fails the reference check below)
        assert not [w for w in _NETWORK_JS if w in js], [w for w in _NETWORK_JS if w in js]
    pngs = []
    for tag, attr, value in p.refs:
        if tag == "a" and attr == "href":
            assert value.startswith("#"), f"external link {value!r}"
            continue
        assert tag == "img" and attr == "src", (tag, attr, value[:60])
        prefix = "data:image/png;base64,"
        assert value.startswith(prefix), f"img src is not an embedded PNG: {value[:60]!r}"
        pngs.append(base64.b64decode(value[len(prefix):], validate=True))
    return pngs


def _decode_png(data: bytes) -> tuple[int, int]:
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG"
        return img.size


@pytest.fixture(scope="module")
def result_file(small_tree, tmp_path_factory):
    return save_result_set(small_tree, tmp_path_factory.mktemp("report") / "r.nc")


@pytest.fixture(scope="module")
def report_dir(result_file):
    out = result_file.parent / "report"
    assert main(["report", str(result_file), "--out", str(out)]) == 0
    return out


def test_html_is_self_contained_and_every_figure_is_a_decodable_png(report_dir):
    text = (report_dir / HTML_NAME).read_text(encoding="utf-8")
    pngs = check_self_contained(text)
    assert len(pngs) >= 8  # options, trajectories, retention, forces, casualties, priors...
    for data in pngs:
        w, h = _decode_png(data)
        assert w > 200 and h > 150
    assert (report_dir / HTML_NAME).stat().st_size < 5_000_000


def test_markdown_links_the_png_files_beside_it(report_dir):
    md = (report_dir / MARKDOWN_NAME).read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all(not ln.startswith(("http:", "https:", "/")) for ln in links)
    for ln in links:
        _decode_png((report_dir / ln).read_bytes())
    html_pngs = check_self_contained((report_dir / HTML_NAME).read_text(encoding="utf-8"))
    assert len(links) == len(html_pngs)


def test_report_has_the_options_table_and_the_assumptions(report_dir, small_tree):
    text = (report_dir / HTML_NAME).read_text(encoding="utf-8")
    for option in small_tree["decision"]["option"].values:
        assert f"<th>{option}</th>" in text
    assert "Assumptions and their sources" in text
    # every parameter of the spec with its units and source
    assert "ru_reinforcement_ceiling" in text and "nk_troops" in text
    assert "Essay: &#x27;including 12,000 North Korean soldiers" in text
    assert "class=\"warning\"" not in text  # a prior analysis has nothing unconverged


def test_unconverged_result_set_gets_a_visible_warning(small_tree, tmp_path):
    from _calibrated import calibrated_tree

    sections = ["brief", "calibration"]
    path = save_result_set(calibrated_tree(small_tree, converged=False), tmp_path / "c.nc")
    html = write_report(load_result_set(path), tmp_path / "rep", sections).read_text("utf-8")
    assert "class=\"warning\">WARNING: the calibration did NOT converge" in html
    assert "Convergence diagnostics per parameter" in html
    assert "Posterior predictive check per observation" in html
    assert "Prior sensitivity of the option ranking" in html  # prior_power variables
    assert "psens prior (1)" in html  # az.psens beside it (diagnostics table)
    pngs = check_self_contained(html)
    assert len(pngs) == 4  # trace, rank, PPC, prior against posterior
    ok = write_report(calibrated_tree(small_tree, converged=True), tmp_path / "ok", sections)
    ok_html = ok.read_text(encoding="utf-8")
    assert "did NOT converge" not in ok_html and "class=\"warning\"" not in ok_html
    assert len(check_self_contained(ok_html)) == 4


def test_voi_group_gives_the_evppi_ranking(small_tree, tmp_path):
    names = [str(v) for v in small_tree["prior"].data_vars][:5]
    voi = xr.Dataset(
        {"evppi": ("parameter", np.linspace(50, 10, 5)), "evppi_se": ("parameter", np.ones(5)),
         "parameter_group": ("parameter", ["g1", "g1", "g2", "g2", "g2"]),
         "group_evppi": ("group", [60.0, 30.0]), "group_evppi_se": ("group", [2.0, 1.0]),
         "evpi": 80.0},
        coords={"parameter": names, "group": ["g1", "g2"]}, attrs={"units": "dkm2"})
    tree = small_tree.copy()
    tree["voi"] = xr.DataTree(voi)
    html = write_report(tree, tmp_path / "rep", ["voi"]).read_text(encoding="utf-8")
    assert "EVPPI of the top inputs" in html and "EVPPI of the input groups" in html
    assert "id=\"fig-evppi\"" in html
    assert html.index(f"<th>{names[0]}</th>") < html.index(f"<th>{names[4]}</th>")


def test_bad_or_missing_file_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", str(tmp_path / "missing.nc"), "--out", str(out)]) == 2
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file")
    assert main(["report", str(bad), "--out", str(out)]) == 2
    assert "kursk-da: error" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nc"]


def test_write_is_atomic(small_tree, tmp_path, monkeypatch):
    import kursk_da.report._writer as writer

    out = tmp_path / "rep"
    write_report(small_tree, out, ["run", "model"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(doc):
        raise RuntimeError("killed half-way")

    monkeypatch.setattr(writer, "render_markdown", boom)
    with pytest.raises(RuntimeError, match="half-way"):
        write_report(small_tree, out, ["run"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old report intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temp dir left
    with pytest.raises(RuntimeError):
        write_report(small_tree, tmp_path / "new", ["run"])
    assert not (tmp_path / "new").exists()


def test_committed_example_report_is_self_contained():
    root = Path(__file__).resolve().parents[1] / "results" / "report"
    if not (root / HTML_NAME).exists():
        pytest.skip("no committed example report (make report)")
    pngs = check_self_contained((root / HTML_NAME).read_text(encoding="utf-8"))
    assert len(pngs) >= 8
    for data in pngs:
        _decode_png(data)


def test_console_and_report_render_the_same_options_frame(small_tree, report_dir):
    frame = options_frame(small_tree)
    units = small_tree.attrs["value_units"]
    assert list(frame.columns) == [f"expected value ({units})", f"MCSE ({units})", "P(best)",
                                   f"expected regret ({units})", f"CVaR 5% ({units})"]
    ev = frame.iloc[:, 0].to_numpy()
    assert np.all(np.diff(ev) <= 0)  # best expected value first
    rows = options_table(small_tree).splitlines()[3:3 + len(frame)]
    for row, (option, values) in zip(rows, frame.iterrows(), strict=True):
        cells = row.split()
        assert cells[0] == option
        assert cells[1] == f"{values.iloc[0]:,.1f}" and cells[3] == f"{values.iloc[1]:,.1f}"
        assert cells[4] == f"{values.iloc[2]:.3f}"
    shown = options_display(small_tree)  # the report's options table (checked in the HTML below)
    assert list(shown.index) == list(frame.index)  # same rows, same order
    dec = small_tree["decision"]
    for option, row in shown.iterrows():
        ev, se = frame.loc[option].iloc[0], frame.loc[option].iloc[1]
        assert row.iloc[0] == format_with_error(ev, se)
        p_se = float(dec["prob_best_mcse"].sel(option=option))
        assert row.iloc[1] == format_estimate(frame.loc[option].iloc[2], p_se)
        c_se = float(dec["cvar_mcse"].sel(option=option))
        assert row.iloc[3] == format_estimate(frame.loc[option].iloc[4], c_se)
    html = (report_dir / HTML_NAME).read_text(encoding="utf-8")
    cells = "".join(f'<td class="num">{c}</td>' for c in shown.iloc[0])
    assert f"<tr><th>{shown.index[0]}</th>{cells}</tr>" in html


# ----------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(("x", "se", "text"), [
    (4.971, 2.6, "5"), (-1099.6, 19.1, "-1,100"), (0.4413, 0.0112, "0.44"),
    (203.7, 9.6, "204"), (-0.3, 2.0, "0"), (12345.678, 0.04, "12,345.68"),
    (0.125, 0.0, "0.125"), (1234.5, float("nan"), "1,230"), (2.5, 1.0, "3"),
    (-2.5, 1.0, "-3"),
])
def test_estimates_are_rounded_to_the_first_digit_of_their_mcse(x, se, text):
    assert format_estimate(x, se) == text


@pytest.mark.parametrize("seed", range(5))
def test_rounding_keeps_the_estimate_within_half_a_unit_of_the_mcse_digit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        x = float(rng.normal(0, 10 ** rng.uniform(-3, 4)))
        se = float(10 ** rng.uniform(-4, 3))
        unit = 10.0 ** np.floor(np.log10(se))  # place of the MCSE's first digit
        r = round_to_mcse(x, se)
        assert abs(r - x) <= 0.5 * unit * (1 + 1e-9)
        assert abs(r / unit - round(r / unit)) < 1e-6  # nothing below that place
        text = format_with_error(x, se)
        assert float(text.split(" ± ")[0].replace(",", "")) == pytest.approx(r, abs=unit * 1e-6)


# ----------------------------------------------------------------------------- brief


def test_brief_numbers_equal_numpy_on_the_values(small_tree):
    b = brief_numbers(small_tree)
    value = small_tree["decision"]["value"].transpose("draw", "option")
    v, options = value.to_numpy(), [str(o) for o in value["option"].values]
    order = np.argsort(-v.mean(axis=0), kind="stable")
    rec, run = options[order[0]], options[order[1]]
    assert (b.recommended, b.runner_up) == (rec, run)
    i, j = options.index(rec), options.index(run)
    assert b.prob_best[rec] == pytest.approx(np.mean(np.argmax(v, axis=1) == i), abs=1e-12)
    wins = v[:, i] > v[:, j]
    assert b.p_beats[run] == pytest.approx(wins.mean(), abs=1e-12)
    assert b.p_beats_mcse[run] == pytest.approx(wins.std(ddof=1) / np.sqrt(wins.size))
    d = v[:, i] - v[:, j]
    assert b.difference[run] == pytest.approx(d.mean())
    assert b.difference_interval[run] == pytest.approx(tuple(np.quantile(d, [0.05, 0.95])))
    evpi = np.mean(v.max(axis=1)) - v.mean(axis=0).max()
    worse = [o for o in options if o != rec and
             v[:, i].mean() - v[:, options.index(o)].mean()
             > max(evpi, 2 * np.std(v[:, i] - v[:, options.index(o)], ddof=1) / np.sqrt(len(v)))]
    assert set(b.clearly_worse) == set(worse)


def test_report_opens_with_the_brief_and_ends_with_the_metadata(report_dir, small_tree):
    text = (report_dir / HTML_NAME).read_text(encoding="utf-8")
    b = brief_numbers(small_tree)
    lead = text.index('<p class="lead"')
    assert lead < text.index("<nav>") < text.index('id="options"')
    assert text.index('id="brief"') < text.index('id="explorer"') < text.index('id="run"')
    assert text.index("Root attributes of the result set") > text.index('id="assumptions"')
    head = text[lead:text.index("</p>", lead)]
    assert f"Recommended: {b.recommended}" in head and f"runner-up, {b.runner_up}" in head
    p = b.prob_best[b.recommended]
    assert f"probability {format_estimate(p, b.prob_best_mcse[b.recommended])} (P(best))" in head
    lo, hi = b.difference_interval[b.runner_up]
    se = b.difference_mcse[b.runner_up]
    assert f"90% interval {format_estimate(lo, se)} to {format_estimate(hi, se)}" in head
    for o in b.clearly_worse:
        assert o in text[lead:text.index('id="explorer"')]
    md = (report_dir / MARKDOWN_NAME).read_text(encoding="utf-8")
    assert md.index(f"**Recommended: {b.recommended}") < md.index("## Options compared")
    assert "weight explorer" in md and "<script" not in md


def test_brief_names_drivers_and_thresholds_when_present(small_tree):
    names = [str(v) for v in small_tree["prior"].data_vars][:3] + ["weight_ru_casualties"]
    voi = xr.Dataset(
        {"evppi": ("parameter", [5.0, 1.0, 0.5, 30.0]), "evppi_se": ("parameter", np.ones(4)),
         "group_evppi": ("group", [10.0, 40.0]), "group_evppi_se": ("group", [2.0, 3.0]),
         "evpi": 80.0},
        coords={"parameter": names, "group": ["casualty_rates", "value_weights"]},
        attrs={"units": "dkm2"})
    b = brief_numbers(small_tree)
    tor = xr.Dataset(
        {"swing": ("parameter", [50.0, 80.0]), "threshold": ("parameter", [0.02, np.nan]),
         "best_below": ("parameter", [b.runner_up, ""]),
         "best_above": ("parameter", [b.recommended, ""]),
         "sweep_value": (("parameter", "sweep"), [[0.01, 0.03], [1.0, 2.0]])},
        coords={"parameter": ["weight_ru_casualties", "nk_troops"]},
        attrs={"distribution": "prior"})
    tree = small_tree.copy()
    tree["voi"] = xr.DataTree(voi)
    tree["sensitivity/tornado"] = xr.DataTree(tor)
    doc = build_document(tree, ["brief"])
    text = render_markdown(doc)
    assert "value_weights 40 ± 3 dkm2 (50% of the EVPI)" in text  # top group first
    # inputs by their catalogue labels and units (issue 22), not raw variable names
    assert "weight of Russian casualties 30 ± 1 dkm2" in text  # top single input
    assert "weight_ru_casualties" not in text
    assert "The value weights" in text and "carry 50% of the EVPI" in text
    # the threshold at 1% of the swept range (0.02 wide: 4 decimals), with the units
    assert (f"below 0.0200 dkm2/troops the best option is {b.runner_up}, above it "
            f"{b.recommended}" in text)
    assert "NK troops (5-95%" not in text  # no threshold: not a change of the choice


def test_unconverged_warning_leads_the_brief(small_tree):
    from _calibrated import calibrated_tree

    tree = calibrated_tree(small_tree, converged=False)
    doc = build_document(tree, ["brief"])
    first = doc.sections[0].blocks[0]
    assert type(first).__name__ == "Warning_" and "did NOT converge" in first.text
    assert "Hindcast skill: not in this result set" in render_markdown(doc)


# ----------------------------------------------------------------------------- explorer


def test_explorer_subsample_is_seeded_and_reproduces_the_stored_values(small_tree):
    data = explorer_data(small_tree, size=500)
    n = small_tree["decision"].sizes["draw"]
    ss = np.random.SeedSequence(int(small_tree.attrs["seed"]), spawn_key=(14,))
    rows = np.sort(np.random.default_rng(ss).choice(n, 500, replace=False))
    assert np.array_equal(data.rows, rows)
    assert np.array_equal(explorer_data(small_tree, size=500).rows, rows)  # deterministic
    v = small_tree["decision"]["value"].transpose("draw", "option").to_numpy()[rows]
    start = explore(data)  # prior means, weights keep their uncertainty: the stored values
    np.testing.assert_allclose(start["expected_value"], v.mean(axis=0), rtol=1e-10)
    best = np.bincount(np.argmax(v, axis=1), minlength=v.shape[1]) / len(v)
    np.testing.assert_allclose(start["prob_best"], best, atol=1e-12)
    k = int(0.05 * len(v))
    np.testing.assert_allclose(start["cvar"], np.sort(v, axis=0)[:k].mean(axis=0), rtol=1e-10)
    assert list(start.sort_values("rank").index) == [
        str(o) for o in np.array(data.options)[np.argsort(-v.mean(axis=0), kind="stable")]]


def test_explorer_with_fixed_weights_is_linear_in_the_weights(small_tree):
    data = explorer_data(small_tree, size=400)
    w = {a: float(hi) for a, (_, hi) in zip(data.attributes, data.slider_range, strict=True)}
    w["ua_casualties"] = float(data.slider_range[data.attributes.index("ua_casualties")][0])
    got = explore(data, w, keep_uncertainty=False)
    s = np.array([w[a] for a in data.attributes])
    v = data.attribute_values @ s  # (n, J): independent of the package's value code
    np.testing.assert_allclose(got["expected_value"], v.mean(axis=0), rtol=1e-10)
    r = 0.002
    ce = -np.log(np.mean(np.exp(-r * v), axis=0)) / r
    risky = explore(data, w, risk_aversion=r, keep_uncertainty=False)
    np.testing.assert_allclose(risky["certainty_equivalent"], ce, rtol=1e-9)
    assert list(risky.sort_values("rank").index) == [
        data.options[j] for j in np.argsort(-ce, kind="stable")]
    with pytest.raises(KeyError, match="unknown attribute"):
        explore(data, {"morale": 1.0})


def test_html_holds_the_explorer_inline_and_stays_small(report_dir):
    text = (report_dir / HTML_NAME).read_text(encoding="utf-8")
    assert 'id="kd-explorer"' in text and 'id="kd-reset"' in text
    assert text.count('type="range"') == 8  # 7 value weights and the risk aversion
    assert (report_dir / HTML_NAME).stat().st_size < 5_000_000


# ----------------------------------------------------------------------------- tables


def test_tables_print_flags_as_yes_no_and_no_plain_index():
    frame = pd.DataFrame({"name": ["a", "b"], "ok": [True, False], "n": [1, 2000]})
    doc = Document("t", "s", [Section("S", "s", [Table(frame, "cap")])])
    html = render_html(doc)
    assert "<td>yes</td>" in html and "<td>no</td>" in html
    assert "<th>0</th>" not in html and '<td class="num">2,000</td>' in html
    md = render_markdown(doc)
    assert "| name | ok | n |" in md and "| a | yes | 1 |" in md
    named = frame.set_index("name")
    assert "<th>a</th>" in render_html(Document("t", "s", [Section("S", "s",
                                                                   [Table(named)])]))


def test_brief_counts_ties_apart_from_wins(small_tree):
    # a rule whose trigger fires at once takes the leader's actions: equal values in those
    # draws are ties, neither a win nor a loss, and the lead is judged where they differ
    from kursk_da.report._brief import headline

    tree = small_tree.copy()
    dec = tree["decision"].to_dataset()
    v = dec["value"].transpose("draw", "option").to_numpy().copy()
    order = np.argsort(-v.mean(axis=0), kind="stable")
    i, j = int(order[0]), int(order[1])
    v[::2, j] = v[::2, i]  # every other draw: the runner-up gives the leader's value
    dec["value"] = (("draw", "option"), v, dec["value"].attrs)
    dec["expected_value"] = (("option",), v.mean(axis=0), dec["expected_value"].attrs)
    tree["decision"] = xr.DataTree(dec)
    b = brief_numbers(tree)
    run = b.runner_up
    k = [str(o) for o in dec["option"].values].index(run)
    assert b.p_ties[run] == pytest.approx(np.mean(v[:, i] == v[:, k]), abs=1e-12)
    assert b.p_ties[run] >= 0.5
    assert b.p_beats[run] == pytest.approx(np.mean(v[:, i] > v[:, k]), abs=1e-12)
    assert b.p_loses[run] == pytest.approx(np.mean(v[:, i] < v[:, k]), abs=1e-12)
    assert b.p_beats[run] + b.p_ties[run] + b.p_loses[run] == pytest.approx(1.0)
    text = headline(b)
    assert f"same outcome with probability {b.p_ties[run]:.3g}" in text
    assert "where they differ" in text


def test_brief_runner_up_is_not_a_copy_of_the_recommended_option(small_tree):
    """An option with the recommended option's value in every draw (a rule whose trigger
    fires at once) is named as such; the runner-up is the best option that differs."""
    from kursk_da.report._brief import headline

    tree = small_tree.copy()
    dec = tree["decision"].to_dataset()
    names = [str(o) for o in dec["option"].values]
    v = dec["value"].transpose("draw", "option").to_numpy().copy()
    order = np.argsort(-v.mean(axis=0), kind="stable")
    lead, second, last = (int(x) for x in (order[0], order[1], order[-1]))
    v[:, last] = v[:, lead]
    ev = v.mean(axis=0)
    dec["value"] = (("draw", "option"), v, dec["value"].attrs)
    dec["expected_value"] = (("option",), ev, dec["expected_value"].attrs)
    tree["decision"] = xr.DataTree(dec)
    b = brief_numbers(tree)
    first = min(lead, last)  # ties keep the stored order
    other = max(lead, last)
    assert b.recommended == names[first]
    assert b.same_as_recommended == (names[other],)
    assert b.runner_up == names[second]
    text = headline(b)
    assert f"{names[other]} has the value of {names[first]} in every draw" in text
    assert f"the runner-up, {names[second]}," in text
