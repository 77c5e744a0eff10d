"""The mypy configuration of pyproject.toml covers every module (the typing ratchet).

``make test`` runs mypy; these checks keep its module lists honest without running it:
every module of ``kursk_da`` is in the STRICT list or in the RATCHET list, none is in
both, every listed module exists, and the package ships its ``py.typed`` marker.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _overrides() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["mypy"]["overrides"]


def _modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "kursk_da").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _matches(pattern: str, module: str) -> bool:
    if pattern.endswith(".*"):
        stem = pattern[:-2]
        return module == stem or module.startswith(stem + ".")
    return module == pattern


def _listed(flag: bool) -> list[str]:
    return [m for o in _overrides() if o.get("disallow_untyped_defs") is flag
            for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])]


def test_every_module_is_strict_or_in_the_ratchet_list():
    strict, ratchet = _listed(True), _listed(False)
    assert strict  # the RATCHET list may be empty (every module strict)
    unlisted = [m for m in _modules()
                if not any(_matches(p, m) for p in strict + ratchet)]
    assert not unlisted, (
        f"modules in neither the STRICT nor the RATCHET mypy list of pyproject.toml: "
        f"{unlisted}; new modules go to STRICT"
    )


def test_no_module_is_in_both_lists():
    strict, ratchet = _listed(True), _listed(False)
    both = [m for m in _modules()
            if any(_matches(p, m) for p in strict) and any(_matches(p, m) for p in ratchet)]
    assert not both, f"modules in both the STRICT and the RATCHET mypy list: {both}"


def test_listed_modules_exist():
    modules = _modules()
    listed = [p for o in _overrides()
              for p in ([o["module"]] if isinstance(o["module"], str) else o["module"])
              if p.split(".")[0] == "kursk_da"]
    gone = [p for p in listed if not any(_matches(p, m) for m in modules)]
    assert not gone, f"mypy overrides of pyproject.toml name modules that do not exist: {gone}"


def test_ignored_modules_are_in_the_ratchet_list():
    ratchet = _listed(False)
    ignored = [m for o in _overrides() if o.get("ignore_errors")
               for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])]
    assert all(m in ratchet for m in ignored), sorted(set(ignored) - set(ratchet))


def test_py_typed_is_shipped():
    assert (ROOT / "kursk_da" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["kursk_da"]
