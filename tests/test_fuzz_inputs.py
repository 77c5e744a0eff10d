"""Fuzz of the spec and observations readers (issue 23, item 8).

Any text given as a spec file (TOML) or as an observations CSV either loads or raises the
package's own error (:class:`kursk_da.errors.KurskDAError`, exit status 2 in the CLI),
never another exception; and what loads is clean (no NUL, every name non-empty, printable
and at most 100 characters, no claim counted twice). The inputs are the shipped files
mutated by hypothesis (characters inserted, deleted or replaced, lines duplicated or
dropped, byte-order marks, NUL, non-UTF-8 bytes) and free text. The default suite runs a
bounded number of examples (a few seconds); the ``slow`` marker runs many more.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kursk_da.errors import KurskDAError
from kursk_da.spec import load_spec
from kursk_da.spec._observations import embed_observation_files, parse_observations
from kursk_da.spec._schema import _check_strings as check_strings

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC_2024 = (MODELS / "kursk_2024.toml").read_bytes()
CLAIMS = "data/kursk_public_figures_2024.csv"
CLAIMS_BYTES = (MODELS / CLAIMS).read_bytes()

_SPECIAL = [b"\x00", b"\xff", b"\xef\xbb\xbf", b"\r", b"\n", b"\t", b'"', b"'", b"[", b"]",
            b"=", b"-", b"+", b"@", b",", b"1e999", b"nan", b"inf", b"-1", b"0", b"{", b"}",
            b"\xed\xa0\x80", "\u2028".encode(), b"<script>", b"..", b"#", b"\\u0000"]


@st.composite
def _mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    lines_mode = draw(st.booleans())
    if lines_mode:
        lines = bytes(data).split(b"\n")
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(lines) - 1))
            op = draw(st.sampled_from(["dup", "drop", "swap", "edit"]))
            if op == "dup":
                lines.insert(i, lines[i])
            elif op == "drop" and len(lines) > 1:
                lines.pop(i)
            elif op == "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                piece = draw(st.sampled_from(_SPECIAL) | st.binary(max_size=8))
                k = draw(st.integers(0, len(lines[i])))
                lines[i] = lines[i][:k] + piece + lines[i][k:]
        return b"\n".join(lines)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(_SPECIAL) | st.binary(min_size=1, max_size=6))
        if op == "insert":
            data[pos:pos] = piece
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        else:
            data[pos:pos + len(piece)] = piece
    return bytes(data)


def _clean(raw: object, where: str = "") -> None:
    """What loaded is clean: no NUL in any text, every name (key) non-empty, printable and
    at most 100 characters (checked here independently of the package's walker)."""
    if isinstance(raw, str):
        assert "\x00" not in raw, where
    elif isinstance(raw, dict):
        for k, v in raw.items():
            assert isinstance(k, str) and k.strip() and k.isprintable() and len(k) <= 100, \
                (where, k)
            _clean(v, f"{where}.{k}")
    elif isinstance(raw, list | tuple):
        for i, v in enumerate(raw):
            _clean(v, f"{where}[{i}]")


def _no_double_count(observations) -> None:
    claims = [(o.date, o.quantity, o.value, o.low, o.high, o.claimant)
              for o in observations if o.likelihood == "claim" and o.name.startswith("r")]
    assert len(claims) == len(set(claims)), "a claim counted twice"


def _loads_or_refuses(path: Path) -> None:
    try:
        spec = load_spec(path)
    except KurskDAError:
        return
    _clean(dict(spec.raw))


def _spec_case(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.toml"
        path.write_bytes(data)
        _loads_or_refuses(path)


_OBS_TABLE = {k: v for k, v in tomllib.loads((MODELS / "kursk_2025.toml").read_text(
    encoding="utf-8"))["observations"].items()}
_DECISION = tomllib.loads((MODELS / "kursk_2025.toml").read_text(encoding="utf-8"))[
    "decision"]["date"]


def _csv_case(data: bytes) -> None:
    """The observations path of :func:`kursk_da.spec.spec_from_dict` on a fuzzed claims
    file: the files read, every string checked, the rows parsed (the rest of the spec, a
    few seconds to validate, is the shipped one and left out)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copytree(MODELS / "data", base / "data")
        (base / CLAIMS).write_bytes(data)
        try:
            raw = embed_observation_files({"observations": dict(_OBS_TABLE)},
                                          str(base / "spec.toml"))
            check_strings(raw)
            obs = parse_observations(raw["observations"], _DECISION)
        except KurskDAError:
            return
        _clean(raw)
        _no_double_count(obs)


_FAST = settings(max_examples=12, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_SLOW = settings(max_examples=600, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_SPEC_TEXT = _mutated(SPEC_2024) | st.binary(max_size=200) | st.text(max_size=200).map(
    lambda t: t.encode("utf-8", "surrogatepass"))
_CSV_TEXT = _mutated(CLAIMS_BYTES) | st.binary(max_size=200)


@_FAST
@given(_SPEC_TEXT)
def test_fuzzed_spec_loads_or_raises_the_packages_error(data):
    _spec_case(data)


@_FAST
@given(_CSV_TEXT)
def test_fuzzed_observations_csv_loads_or_raises_the_packages_error(data):
    _csv_case(data)


@pytest.mark.slow
@_SLOW
@given(_SPEC_TEXT)
def test_fuzzed_spec_at_scale(data):
    _spec_case(data)


@pytest.mark.slow
@_SLOW
@given(_CSV_TEXT)
def test_fuzzed_observations_csv_at_scale(data):
    _csv_case(data)
