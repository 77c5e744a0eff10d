"""The HTML report in a real browser: headless Debian Chromium driven by selenium.

Opens the report, checks the console is clean, that the first screen states the
recommendation with its probability and the runner-up, and that the weight explorer's
numbers and ranking, at the start and after moving sliders, equal the Python computation
on the same subsample (:func:`kursk_da.report.explore`) to the displayed rounding.
Skipped, with the reason, only when chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

from kursk_da.dims import DRAW, OPTION
from kursk_da.report import (
    HTML_NAME,
    browser_unavailable,
    explore,
    explorer_data,
    explorer_display,
    format_estimate,
    headless_chromium,
    write_report,
)

matplotlib.use("Agg")

_REASON = browser_unavailable()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=f"no headless browser: {_REASON}")


@pytest.fixture(scope="module")
def report(small_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report"
    return write_report(small_tree, out)


@pytest.fixture(scope="module")
def data(small_tree):
    return explorer_data(small_tree)


@pytest.fixture(scope="module")
def page(report):
    with headless_chromium() as driver:
        driver.get(report.as_uri())
        yield driver


def _table(driver) -> list[dict[str, str]]:
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#kd-explorer-rows tr')).map(tr => ({
          option: tr.dataset.option, rank: tr.querySelector('.rank').textContent,
          'expected value': tr.querySelector('.ev').textContent,
          'certainty equivalent': tr.querySelector('.ce').textContent,
          'P(best)': tr.querySelector('.pbest').textContent,
          CVaR: tr.querySelector('.cvar').textContent}));""")


def _expected_rows(frame) -> list[dict[str, str]]:
    shown = explorer_display(frame)
    return [{"option": str(o), **{c: str(v) for c, v in row.items()}}
            for o, row in shown.iterrows()]


def _settings(driver, data) -> tuple[dict[str, float], float, bool]:
    """The settings the page computes with (slider values as the browser parsed them)."""
    s = driver.execute_script("return window.kdExplorer.settings();")
    sliders = driver.execute_script(
        "return window.kdExplorer.data.attributes.map(a => "
        "parseFloat(document.getElementById('kd-w-' + a).value));")
    # every setting is the slider's own value, up to the browser's serialisation
    np.testing.assert_allclose(s["weights"], sliders, rtol=1e-13, atol=1e-300)
    return ({a: float(v) for a, v in zip(data.attributes, s["weights"], strict=True)},
            float(s["risk"]), bool(s["keep"]))


def _move(driver, element_id: str, value: float) -> None:
    driver.execute_script(
        "const el = document.getElementById(arguments[0]); el.value = String(arguments[1]);"
        "el.dispatchEvent(new Event('input', {bubbles: true}));", element_id, value)


def _check_against_python(driver, data) -> list[str]:
    weights, risk, keep = _settings(driver, data)
    frame = explore(data, weights, risk_aversion=risk, keep_uncertainty=keep)
    assert _table(driver) == _expected_rows(frame)
    last = driver.execute_script("return window.kdExplorer.last;")
    for key in ("ev", "ce", "prob_best", "cvar"):
        col = {"ev": "expected_value", "ce": "certainty_equivalent"}.get(key, key)
        np.testing.assert_allclose(last[key], frame[col].to_numpy(), rtol=1e-9, atol=1e-9)
    order = [data.options[j] for j in last["order"]]
    assert order == list(frame.sort_values("rank").index)
    return order


def test_no_console_errors_and_the_page_is_offline(page):
    logs = page.get_log("browser")
    assert not [e for e in logs if e["level"] in ("SEVERE", "ERROR")], logs
    # nothing but the file itself and data: URIs was loaded
    urls = page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    assert all(u.startswith("data:") for u in urls), urls
    assert page.execute_script("return typeof window.kdExplorer.compute;") == "function"


def test_first_screen_states_the_recommendation_probability_and_runner_up(page, small_tree):
    values = small_tree["decision"]["value"].transpose(DRAW, OPTION)
    v = values.to_numpy()
    options = [str(o) for o in values[OPTION].values]
    ev = v.mean(axis=0)
    rec, run = (options[i] for i in np.argsort(-ev, kind="stable")[:2])
    p_best = float(np.mean(np.argmax(v, axis=1) == options.index(rec)))
    se = float(small_tree["decision"]["prob_best_mcse"].sel({OPTION: rec}))
    page.execute_script("window.scrollTo(0, 0);")
    visible = page.execute_script("""
        const h = window.innerHeight, out = [];
        document.querySelectorAll('h1, h2, p, li').forEach(el => {
          const r = el.getBoundingClientRect();
          if (r.top >= 0 && r.bottom <= h && r.height > 0) out.push(el.innerText);
        });
        return out.join('\\n');""")
    assert f"Recommended: {rec}" in visible
    assert f"probability {format_estimate(p_best, se)} (P(best))" in visible
    wins = v[:, options.index(rec)] > v[:, options.index(run)]  # independent draws (prior)
    p_se = float(np.std(wins, ddof=1) / np.sqrt(wins.size))
    assert f"runner-up, {run}, with probability {format_estimate(wins.mean(), p_se)}" in visible


def test_nothing_is_wider_than_the_page(page):
    """Issue 22: the calibration table overflowed the page. Every table fits the page or
    scrolls inside its own box; the page itself never scrolls sideways."""
    page.set_window_size(1280, 900)
    wide = page.execute_script("""
        const d = document.documentElement, out = [];
        if (d.scrollWidth > d.clientWidth)
          out.push('page ' + d.scrollWidth + ' > ' + d.clientWidth);
        const body = document.body.getBoundingClientRect();
        document.querySelectorAll('table, figure, .table-wrap').forEach(el => {
          const r = el.getBoundingClientRect(), box = el.closest('.table-wrap');
          const inside = box ? box.getBoundingClientRect() : r;
          if (inside.right > body.right + 1) out.push(el.tagName + ' ' + el.innerText.slice(0, 60));
        });
        return out;""")
    assert not wide, wide


def test_the_value_unit_and_its_zero_are_explained_where_first_used(page):
    page.set_window_size(1280, 900)
    page.execute_script("window.scrollTo(0, 0);")
    text = page.execute_script("return document.body.innerText;")
    first = text.index("dkm2")
    after = text[first:first + 400]
    assert "Donbas-equivalent km²" in after and "0 is an option that changes nothing" in after
    top = page.execute_script("""
        const el = Array.from(document.querySelectorAll('p, li, .lead'))
          .find(e => e.innerText.includes('Donbas-equivalent km²'));
        return el.getBoundingClientRect().top;""")
    assert top < 900  # on the first screen


def test_explorer_starts_at_the_prior_means_equal_to_python(page, data):
    page.execute_script("window.kdExplorer.reset();")
    weights, risk, keep = _settings(page, data)
    assert risk == 0.0 and keep
    assert [weights[a] for a in data.attributes] == data.prior_mean.tolist()
    _check_against_python(page, data)


def test_moving_sliders_changes_the_ranking_as_python_says(page, data):
    page.execute_script("window.kdExplorer.reset();")
    start = _check_against_python(page, data)
    # a setting (each weight at an end of its slider, two at a time) that reorders the
    # options according to Python; the browser must show the same new order
    found = None
    for (i, a), (k, b) in itertools.combinations(enumerate(data.attributes), 2):
        for ends in itertools.product((0, 1), repeat=2):
            w = {a: float(data.slider_range[i][ends[0]]), b: float(data.slider_range[k][ends[1]])}
            order = list(explore(data, w).sort_values("rank").index)
            if order != start:
                found = w
                break
        if found:
            break
    assert found is not None, "no slider setting reorders the options"
    for a, val in found.items():
        _move(page, f"kd-w-{a}", val)
    moved = _check_against_python(page, data)
    assert moved != start
    _move(page, "kd-risk", 0.002)
    page.execute_script("const k = document.getElementById('kd-keep'); k.checked = false;"
                        "k.dispatchEvent(new Event('input', {bubbles: true}));")
    _check_against_python(page, data)
    page.find_element("id", "kd-reset").click()
    assert _check_against_python(page, data) == start
    assert not [e for e in page.get_log("browser") if e["level"] == "SEVERE"]


def test_report_file_is_small(report):
    assert report.name == HTML_NAME and report.stat().st_size < 5_000_000


def test_first_screen_screenshot_is_a_png_listed_in_the_manifest(small_tree, tmp_path):
    import json
    from io import BytesIO

    from PIL import Image

    from kursk_da.report import FIRST_SCREEN_NAME, MANIFEST_NAME, screenshot_first_screen

    out = tmp_path / "rep"
    write_report(small_tree, out, ["brief", "run"])
    png = screenshot_first_screen(out)
    assert png == out / FIRST_SCREEN_NAME
    with Image.open(BytesIO(png.read_bytes())) as img:
        assert img.format == "PNG" and img.size[0] >= 1000 and img.size[1] >= 700
        assert np.unique(np.asarray(img.convert("L"))).size > 10  # not a blank page
    assert FIRST_SCREEN_NAME in json.loads((out / MANIFEST_NAME).read_text())["files"]
    write_report(small_tree, out, ["brief"])  # a report with its screenshot is still replaced
    assert not (out / FIRST_SCREEN_NAME).exists()


# ------------------------------------------------------------------ hostile names (issue 23)
HOSTILE_OPTIONS = (
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "</script><script>window.__pwned=2;alert(2)</script>",
    "&lt;b&gt;\u2028<!--<svg onload=alert(3)>",
)


@pytest.fixture(scope="module")
def hostile_tree(spec_2025):
    import copy

    from kursk_da.analysis import analyze
    from kursk_da.spec import spec_from_dict

    raw = copy.deepcopy(dict(spec_2025.raw))
    opts = list(raw["options"].items())
    raw["options"] = {HOSTILE_OPTIONS[i] if i < len(HOSTILE_OPTIONS) else k: v
                      for i, (k, v) in enumerate(opts)}
    # the trigger option refers to no other option by name; the rename keeps it valid
    spec = spec_from_dict(raw, path=spec_2025.path)
    return analyze(spec, draws=1000, seed=3, chunk_size=1000, prior_only=True)


def test_hostile_option_names_run_no_script_and_show_as_text(hostile_tree, tmp_path):
    # the sections that show option names as text (the others draw figures)
    out = write_report(hostile_tree, tmp_path / "rep", ["brief", "explorer", "options", "run"])
    with headless_chromium() as driver:
        # an alert that fired would be recorded here (and would block the page otherwise)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
            "window.__alerts = 0; window.alert = function () { window.__alerts += 1; };"
            "window.confirm = window.alert; window.prompt = window.alert;")})
        driver.get(out.as_uri())
        driver.execute_script("window.kdExplorer.reset();")
        assert driver.execute_script("return typeof window.__pwned;") == "undefined"
        assert driver.execute_script("return window.__alerts;") == 0
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('#kd-explorer-rows tr'))"
            ".map(tr => [tr.dataset.option, tr.querySelector('th').textContent]);")
        # every option name is shown as the text it is, in the cell and the data attribute
        names = {n for n, _ in shown}
        assert names == {str(o) for o in hostile_tree["decision"]["option"].values}
        assert all(a == b for a, b in shown)
        assert set(HOSTILE_OPTIONS) <= names
        assert driver.execute_script(
            "return document.querySelectorAll('#kd-explorer-rows img, #kd-explorer-rows svg,"
            " #kd-explorer-rows script').length;") == 0
        # and nowhere else on the page did a name become an element
        assert driver.execute_script("return document.querySelectorAll('img[src=x], "
                                     "svg[onload]').length;") == 0
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
