"""The architecture holds (docs/architecture.md): no import cycles, public API behind
``__all__``, notebooks on the public API only, dimension names spelled only in dims.py.

The layer order itself is the import-linter contract in pyproject.toml (``lint-imports``,
run by ``make test``); these tests check what a layers contract cannot.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
from pathlib import Path

import grimp
import pytest

import kursk_da
from kursk_da import dims

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kursk_da"
DIM_NAMES = {getattr(dims, n) for n in dims.__all__ if isinstance(getattr(dims, n), str)} - {
    dims.VALUE_UNITS}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one node (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # function-level imports count; imports only for the type checker do not run
    return grimp.build_graph("kursk_da", exclude_type_checking_imports=True)


def test_no_import_cycle_between_modules(graph):
    edges = {m: {w for w in graph.find_modules_directly_imported_by(m)
                 if w.startswith("kursk_da")} for m in graph.modules if m.startswith("kursk_da")}
    assert _strongly_connected(edges) == []


def test_no_import_cycle_between_subpackages(graph):
    def top(m: str) -> str:
        parts = m.split(".")
        return parts[1] if len(parts) > 1 else "kursk_da"

    edges: dict[str, set[str]] = {}
    for m in graph.modules:
        if not m.startswith("kursk_da") or top(m) == "kursk_da":
            continue  # the top-level package re-exports everything; nothing imports it
        for w in graph.find_modules_directly_imported_by(m):
            if w.startswith("kursk_da.") and top(w) != top(m):
                edges.setdefault(top(m), set()).add(top(w))
    assert _strongly_connected(edges) == []


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(kursk_da.__path__, "kursk_da.")
            if not m.name.endswith("__main__")]


@pytest.mark.parametrize("name", _modules())
def test_every_module_lists_its_names(name):
    mod = importlib.import_module(name)
    assert isinstance(getattr(mod, "__all__", None), list | tuple), f"{name} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == [], f"{name}.__all__ lists undefined names {missing}"


def test_top_level_api_resolves():
    for name in kursk_da.__all__:
        if name in ("build_model", "calibrate", "diagnose", "run_calibration", "Calibration"):
            continue  # lazy: importing them imports PyMC (tested in test_api)
        assert getattr(kursk_da, name) is not None


def _notebook_imports(path: Path) -> list[tuple[str, str]]:
    out = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("%"))
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kursk_da"):
                out += [(node.module or "", a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                out += [(a.name, "") for a in node.names if a.name.startswith("kursk_da")]
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_notebooks_use_only_the_public_api(path):
    bad = []
    for module, name in _notebook_imports(path):
        if any(part.startswith("_") for part in module.split(".")):
            bad.append(f"{module} is private")
            continue
        mod = importlib.import_module(module)
        if module != "kursk_da" and not (PACKAGE / module.split(".", 1)[1].replace(".", "/")
                                         / "__init__.py").is_file():
            bad.append(f"{module} is a module, not a package's public API")
        elif name and name not in getattr(mod, "__all__", ()):
            sub = PACKAGE.joinpath(*module.split(".")[1:], name)
            if not (name[0] != "_" and (sub / "__init__.py").is_file()):  # a public package
                bad.append(f"{module}.{name} is not in {module}.__all__")
    assert bad == []


def _dim_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants equal to a dimension name used where a dimension is named."""
    hits = []

    def consts(node: ast.AST) -> list[ast.Constant]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node]
        if isinstance(node, ast.Tuple | ast.List):
            return [c for e in node.elts for c in consts(e)]
        return []

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("dims", "dim", "sample_dims", "index_dim"):
                    hits += [(c.lineno, c.value) for c in consts(kw.value)]
                elif kw.arg == "coords" and isinstance(kw.value, ast.Dict):
                    hits += [(c.lineno, c.value) for k in kw.value.keys if k is not None
                             for c in consts(k)]
                elif kw.arg in DIM_NAMES and isinstance(node.func, ast.Attribute) and \
                        node.func.attr in ("sel", "isel", "drop_sel", "assign_coords",
                                           "expand_dims", "thin", "head", "tail"):
                    hits.append((node.lineno, kw.arg))  # .sel(draw=...), .isel(option=...)
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in (
                    "transpose", "mean", "sum", "std", "var", "stack", "expand_dims",
                    "squeeze", "quantile", "median", "max", "min", "rename_dims", "swap_dims"):
                for arg in node.args:
                    hits += [(c.lineno, c.value) for c in consts(arg)]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and \
                node.value.attr in ("sizes", "dims", "coords", "indexes"):
            hits += [(c.lineno, c.value) for c in consts(node.slice)]  # ds.sizes["draw"]
    return [(line, v) for line, v in hits if v in DIM_NAMES]


def test_dimension_names_are_spelled_only_in_dims():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "dims.py":
            continue
        for line, name in _dim_literals(ast.parse(path.read_text())):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {name!r}")
    assert bad == []
