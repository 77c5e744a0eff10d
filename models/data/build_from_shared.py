"""Build the project's copy of the public-figures data set (see README.md here).

Run from the repository root::

    python models/data/build_from_shared.py ../shared/data/kursk-public-figures-2024

It reads ``pre2025_observations.csv`` and ``pre2025_daily_area.csv`` of the shared data set
and writes ``kursk_public_figures_2024.csv`` and ``isw_kursk_russian_advances_daily.csv``
beside this script, applying the build rule of README.md (each row's ``quantity`` mapped to
the model's observable, DeepState firm/grey rows split, the three ISW-layer rows that repeat
the daily series dropped). Standard library only; deterministic.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["date", "quantity", "value", "low", "high", "claimant", "reported_on", "source",
           "note"]
CUTOFF = "2025-01-04"

# ru_troops_in_kursk: (date, value) -> observable; the note of each row says what is counted
RU_TROOPS = {
    ("2024-08-06", "11000"): "russian_forces",       # pre-incursion garrison (present)
    ("2024-08-06", "4000"): "russian_forces",        # "up to 4,000" garrison (present)
    ("2024-08-27", "30000"): "ru_arrivals",          # "transferred"
    ("2024-09-05", "60000"): "ru_arrivals",          # "transferred"
    ("2024-09-13", "40000"): "russian_forces",       # "are there"
    ("2024-09-14", "37500"): "russian_forces",       # "between 30 and 45 thousand" (present)
    ("2024-09-19", "37000"): "russian_forces",       # "concentrated"
    ("2024-10-10", "50000"): "ru_arrivals",          # "redeployed from other areas"
    ("2024-11-05", "45000"): "russian_forces_excl_nk",  # Russian troops, NK "to be added"
    ("2024-11-10", "50000"): "russian_forces",       # "including North Korean forces"
    ("2024-11-11", "50000"): "russian_forces",       # "holding back ... 50,000"
    ("2024-11-23", "59000"): "ru_arrivals",          # "deployed ... since" (cumulative)
}


def _row(src: dict[str, str], **change: str) -> dict[str, str]:
    out = {c: src[c] for c in COLUMNS}
    out.update(change)
    return out


def convert(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Apply the build rule to the shared observation rows (see README.md)."""
    out: list[dict[str, str]] = []
    for r in rows:
        assert r["date"] <= CUTOFF and r["reported_on"] <= CUTOFF, r
        q, claimant = r["quantity"], r["claimant"]
        if q == "area_held_km2":
            if "DeepState" in claimant and r["low"] and r["high"]:
                out.append(_row(r, quantity="area_held", value=r["low"], low="", high="",
                                note="[firm control: the row's low] " + r["note"]))
                out.append(_row(r, quantity="area_held_incl_grey", value=r["high"], low="",
                                high="", note="[incl. grey zone: the row's high] " + r["note"]))
            else:
                out.append(_row(r, quantity="area_held"))
        elif q == "area_retaken_km2":
            if "ISW map layer" in claimant:
                continue  # the same values are in the daily series
            out.append(_row(r, quantity="area_retaken_from_peak"))
        elif q == "ru_troops_in_kursk":
            out.append(_row(r, quantity=RU_TROOPS[(r["date"], r["value"])]))
        elif q == "nk_troops_in_kursk":
            if "PLANNED" in r["note"]:
                out.append(_row(r, quantity="nk_troops_planned"))
            elif "In RUSSIA" in r["note"]:  # in Russia >= in Kursk: an upper bound on Kursk
                out.append(_row(r, high=r["value"],
                                note="[in Russia: upper bound on Kursk] " + r["note"]))
                out[-1]["quantity"] = "nk_troops_in_kursk"
            else:
                out.append(_row(r))
        elif q == "ua_troops_in_kursk":
            out.append(_row(r, quantity="ukrainian_forces"))
        elif q == "ru_casualties_cum_kursk":
            kwc = "killed+wounded+POW" in r["note"]
            out.append(_row(r, quantity="ru_casualties" if kwc else "ru_losses_undefined"))
        elif q == "ua_casualties_cum_kursk":
            out.append(_row(r, quantity="ua_losses_undefined"))
        else:  # nk_casualties_cum, ru_gains_east_km2_month: kept, excluded by the spec
            out.append(_row(r))
    return out


def daily(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The ISW Kursk-advances layer of the daily file, as observation rows."""
    out = []
    for r in rows:
        if r["quantity"] != "area_retaken_km2" or r["date"] > CUTOFF:
            continue
        out.append({"date": r["date"], "quantity": "area_retaken_isw_layer", "value": r["value"],
                    "low": "", "high": "", "claimant": "OSINT (ISW map layer; area from sdspieg "
                    "repo)", "reported_on": r["date"], "source": r["source"],
                    "note": "area of ISW 'assessed Russian advances in Kursk' polygons on the "
                            "map date (layer starts 2024-09-11)"})
    return out


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(shared: str) -> None:
    src = Path(shared)
    with (src / "pre2025_observations.csv").open(encoding="utf-8") as fh:
        obs = list(csv.DictReader(fh))
    with (src / "pre2025_daily_area.csv").open(encoding="utf-8") as fh:
        day = list(csv.DictReader(fh))
    _write(HERE / "kursk_public_figures_2024.csv", convert(obs))
    _write(HERE / "isw_kursk_russian_advances_daily.csv", daily(day))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/kursk-public-figures-2024")
