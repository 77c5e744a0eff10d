"""`kursk-da report`: self-contained HTML (embedded, decodable PNGs only), Markdown, atomic."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

from kursk_da.cli import main
from kursk_da.io import load_result_set, options_frame, options_table, save_result_set
from kursk_da.report import HTML_NAME, MARKDOWN_NAME, build_document, write_report
from kursk_da.report._document import Table

matplotlib.use("Agg")

_URL_ATTRS = {"src", "href", "srcset", "data", "action", "poster", "background", "formaction"}
_FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "base", "video", "audio",
                   "source", "track", "frame"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in_style = tag == "style"
        for k, v in attrs:
            if k in _URL_ATTRS:
                self.refs.append((tag, k, v or ""))
            if k == "style":
                self.styles.append(v or "")

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def check_self_contained(html_text: str) -> list[bytes]:
    """Assert the HTML references nothing outside itself; return the embedded PNGs."""
    p = _Refs()
    p.feed(html_text)
    assert not (p.tags & _FORBIDDEN_TAGS), p.tags & _FORBIDDEN_TAGS
    for css in p.styles:
        assert "url(" not in css and "@import" not in css
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

    sections = ["run", "calibration"]
    path = save_result_set(calibrated_tree(small_tree, converged=False), tmp_path / "c.nc")
    html = write_report(load_result_set(path), tmp_path / "rep", sections).read_text("utf-8")
    assert "class=\"warning\">WARNING: the calibration did NOT converge" in html
    assert "Convergence diagnostics per parameter" in html
    assert "Posterior predictive check per observation" in html
    assert "Prior sensitivity of the option ranking" in html  # prior_power variables
    assert "psens_prior" in html  # az.psens beside it (diagnostics table)
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


def test_console_and_report_render_the_same_options_frame(small_tree):
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
    doc = build_document(small_tree, ["options"])
    tables = [b for b in doc.sections[0].blocks if isinstance(b, Table)]
    assert tables[0].frame.equals(frame.round(3))
