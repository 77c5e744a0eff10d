"""Scale-out (issue 12): block-keyed streams, dask.distributed, streaming summaries, Zarr.

The cluster tests use a LocalCluster of 2 worker processes of one thread each on loopback
(no dashboard), shared by the module. Results must be bit for bit those of the
in-process engine, whatever the chunk size, threads or workers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import kursk_da as kd
from kursk_da.decision import _metrics as metrics
from kursk_da.engine._noise import block_shocks
from kursk_da.engine._run import BLOCK_SIZE, run_engine, stored_rows
from kursk_da.errors import ArgumentError
from kursk_da.io._resultset import load_result_set, save_result_set

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "kursk_2025.toml"
DRAWS = 2 * BLOCK_SIZE + 808  # two whole blocks and a partial one
# before any cluster of this module: a dask nanny also sets the variable in the process
# that starts it, so its presence later is what the test below checks
TRIM_SET_BEFORE = "MALLOC_TRIM_THRESHOLD_" in os.environ


def _same_groups(a: xr.DataTree, b: xr.DataTree, groups=("decision", "trajectories")) -> None:
    for g in groups:
        assert a[g].dataset.identical(b[g].dataset), g


@pytest.fixture(scope="module")
def reference(spec_2025):
    return kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True, chunk_size=1,
                      n_jobs=2)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    from kursk_da.engine._dask import local_cluster

    with local_cluster(2, 1) as cl, distributed.Client(cl) as client:
        # workers import kursk_da and load the cached kernels once
        client.run(lambda: __import__("kursk_da.engine._run"))
        yield cl, client


# --- streams ------------------------------------------------------------------------


def test_block_shocks_are_counter_based_normals():
    seq = np.random.SeedSequence(3, spawn_key=(3, 5))
    z = block_shocks(seq, 0, 700, 333)
    assert z.shape == (333, 700) and z.flags.c_contiguous
    np.testing.assert_array_equal(block_shocks(seq, 123, 456, 333), z[:, 123:456])
    np.testing.assert_array_equal(block_shocks(seq, 0, 1, 333), z[:, :1])
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    # days of a draw are independent (no correlation between the pair members)
    assert abs(np.corrcoef(z[:166].ravel(), z[167:333].ravel())[0, 1]) < 0.01


def test_results_do_not_depend_on_chunk_size_or_threads(spec_2025, reference):
    other = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True,
                       chunk_size=3 * BLOCK_SIZE, n_jobs=1)
    _same_groups(reference, other, ("decision", "trajectories", "prior"))
    assert reference.attrs["result_schema"] == "4"
    assert reference.attrs["block_size"] == BLOCK_SIZE


def test_prefix_property(spec_2025):
    short = run_engine(spec_2025, BLOCK_SIZE + 5, 6, chunk_size=100, n_jobs=2)
    long = run_engine(spec_2025, DRAWS, 6, chunk_size=BLOCK_SIZE * 2, n_jobs=1)
    n = short.n_draws
    for name in ("inputs", "attributes", "values"):
        np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[:n], name)
    np.testing.assert_array_equal(short.trajectories, long.trajectories)


def test_streaming_summary_equals_the_array_metrics():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(9001, 3)) @ rng.normal(size=(3, 3)) + [0.0, 0.05, -0.05]
    s = metrics.StreamingSummary(3, v.shape[0], 0.05)
    for a in range(0, v.shape[0], 1000):
        s.add(v[a:a + 1000], a)
    r = s.result()
    np.testing.assert_allclose(r["expected_value"], v.mean(axis=0), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(r["prob_best"], metrics.prob_best(v))
    np.testing.assert_allclose(r["cvar"], metrics.cvar(v, 0.05), rtol=1e-13)
    np.testing.assert_allclose(r["quantile"], np.quantile(v, 0.05, axis=0), rtol=1e-13)
    np.testing.assert_allclose(r["evpi"], metrics.evpi_core(v), rtol=1e-12)
    ref = metrics.mcse_all(v, 0.05)
    for name in metrics.MCSE_QUANTITIES:
        np.testing.assert_allclose(r[f"{name}_mcse"], ref[name], rtol=1e-9, err_msg=name)
    # the posterior design: per-posterior-draw means, ArviZ ESS
    s = metrics.StreamingSummary(3, 9000, 0.05, (3, 1000), 3)
    for a in range(0, 9000, 4096):
        s.add(v[a:min(9000, a + 4096)], a)
    r = s.result()
    ref = metrics.mcse_all(v[:9000], 0.05, (3, 1000), 3)
    for name in metrics.MCSE_QUANTITIES:
        np.testing.assert_allclose(r[f"{name}_mcse"], ref[name], rtol=1e-9, err_msg=name)


def test_block_moments_passed_in_give_the_same_summary_and_match_the_formulas():
    """The moments the engine computes with each block (on the worker) give the same
    summary, bit for bit, as the moments computed by the summary itself; and they are
    the plain mean, co-moment matrix and argmax counts (ties: the first option)."""
    from kursk_da.stats._moments import block_moments

    rng = np.random.default_rng(5)
    v = rng.normal(size=(6000, 4))
    v[:50, 3] = v[:50, 1]  # ties: the first of the equal options is the best
    a = metrics.StreamingSummary(4, 6000, 0.05)
    b = metrics.StreamingSummary(4, 6000, 0.05)
    for s in range(0, 6000, 1024):
        a.add(v[s:s + 1024], s)
        b.add(v[s:s + 1024], s, block_moments(v[s:s + 1024]))
    ra, rb = a.result(), b.result()
    for name in ra:
        np.testing.assert_array_equal(ra[name], rb[name], err_msg=name)
    mom = block_moments(v[:1000])
    x = np.column_stack([v[:1000], v[:1000].max(axis=1)])
    np.testing.assert_allclose(mom.mean, x.mean(axis=0), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(mom.m2, 999 * np.cov(x, rowvar=False), rtol=1e-12, atol=1e-12)
    first = np.array([int(np.flatnonzero(row == row.max())[0]) for row in v[:1000]])
    np.testing.assert_array_equal(mom.best, np.bincount(first, minlength=4))
    with pytest.raises(ValueError, match="moments: expected the moments of 10 rows"):
        metrics.StreamingSummary(4, 6000, 0.05).add(v[:10], 0, block_moments(v[:11]))


def test_stored_subsample(spec_2025, reference):
    sub = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True, store_draws=1000)
    rows = stored_rows(DRAWS, 1000)
    assert rows.size == 1000 and rows[0] == 0 and np.all(np.diff(rows) > 0)
    assert sub.attrs["draws_stored"] == 1000 and sub.attrs["draws"] == DRAWS
    np.testing.assert_array_equal(sub["decision"]["draw"].values, rows)
    np.testing.assert_array_equal(sub["prior"]["draw"].values, rows)
    np.testing.assert_array_equal(sub["decision"]["value"].values,
                                  reference["decision"]["value"].values[rows])
    summary = [v for v in reference["decision"].data_vars if DRAW_DIM not in
               reference["decision"][v].dims]
    for v in summary:
        assert sub["decision"][v].identical(reference["decision"][v]), v
    assert sub["trajectories"].dataset.identical(reference["trajectories"].dataset)


DRAW_DIM = "draw"


def test_in_process_run_imports_no_distributed():
    code = ("import sys, kursk_da as kd\n"
            f"kd.analyze({str(SPEC)!r}, draws=300, seed=1, prior_only=True)\n"
            "print(json.dumps(['distributed' in sys.modules, "
            "'kursk_da.engine._dask' in sys.modules]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], env=env,
                         capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, False]


# --- result files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["r.nc", "r.zarr"])
def test_round_trip_zarr_and_compressed_netcdf(reference, tmp_path, name):
    path = save_result_set(reference, tmp_path / name)
    loaded = load_result_set(path)
    _same_groups(reference, loaded, ("decision", "trajectories", "prior"))
    assert loaded.attrs["seed"] == 11
    with xr.open_datatree(path, chunks={}) as lazy:
        assert type(lazy["decision"]["value"].data).__module__.startswith("dask")
        np.testing.assert_array_equal(lazy["decision"]["value"].values,
                                      reference["decision"]["value"].values)
    if name.endswith(".nc"):
        import h5py

        with h5py.File(path) as fh:
            # per-draw variables chunked along draw, uncompressed (gzip was the run's
            # bottleneck, issue 27); the summaries compressed
            ds = fh["decision"]["value"]
            assert ds.compression is None and ds.chunks is not None
            assert fh["decision"]["expected_value"].compression == "gzip"
    save_result_set(reference, path)  # replacing a store or file
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_zarr_write_is_atomic(reference, tmp_path, monkeypatch):
    path = save_result_set(reference, tmp_path / "r.zarr")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_zarr", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        save_result_set(reference, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.zarr"]
    _same_groups(reference, load_result_set(path))
    with pytest.raises(ArgumentError, match="not a Zarr store"):
        (tmp_path / "other.zarr").mkdir()
        (tmp_path / "other.zarr" / "x.txt").write_text("mine")
        save_result_set(reference, tmp_path / "other.zarr")


def test_old_schema_files_still_load(reference, tmp_path):
    old = reference.copy()
    old.attrs = {**reference.attrs, "result_schema": "2"}
    path = save_result_set(old, tmp_path / "old.nc")
    assert load_result_set(path).attrs["result_schema"] == "2"


# --- cluster ----------------------------------------------------------------------------


def test_cluster_run_equals_in_process(spec_2025, reference, cluster):
    _, client = cluster
    dist = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True,
                      chunk_size=BLOCK_SIZE, client=client)
    _same_groups(reference, dist, ("decision", "trajectories", "prior"))


def test_local_workers_run_without_dask_malloc_trim_threshold(cluster, monkeypatch):
    # dask's nanny default MALLOC_TRIM_THRESHOLD_=65536 costs the engine's tasks 15%
    # (kursk_da.engine._dask.local_cluster); the workers start without it, and the
    # global dask config is left as it was
    import dask

    from kursk_da.engine import _dask as kdask
    from kursk_da.engine._dask import TRIM_KEY

    _, client = cluster
    if TRIM_SET_BEFORE:
        pytest.skip("MALLOC_TRIM_THRESHOLD_ is set in this environment (it wins, as in dask)")
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ  # not set here by the nannies either
    seen = client.run(lambda: __import__("os").environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert len(seen) == 2 and set(seen.values()) == {None}

    during = {}

    class Recorder:  # stands in for LocalCluster: what the nannies would read
        def __init__(self, **kwargs):
            during["trim"], during["kwargs"] = dask.config.get(TRIM_KEY), kwargs

    monkeypatch.setattr(kdask, "LocalCluster", Recorder)
    with dask.config.set({TRIM_KEY: 4242}):
        kdask.local_cluster(3, 2)
        assert dask.config.get(TRIM_KEY) == 4242  # restored
    assert during["trim"] is None
    assert during["kwargs"]["n_workers"] == 3 and during["kwargs"]["threads_per_worker"] == 2


def test_cli_scheduler_and_zarr(reference, cluster, tmp_path, capsys):
    from kursk_da.cli import main

    cl, _ = cluster
    out = tmp_path / "big.zarr"
    status = main(["analyze", str(SPEC), "--prior-only", "--draws", str(DRAWS), "--seed", "11",
                   "--scheduler", cl.scheduler_address, "--out", str(out), "--no-progress",
                   "--chunk-size", "5000"])
    assert status == 0
    assert "engine on tcp://127.0.0.1" in capsys.readouterr().err
    _same_groups(reference, load_result_set(out), ("decision", "trajectories"))


def test_killed_worker_is_retried_with_identical_results(spec_2025, cluster):
    _, client = cluster
    draws = 12 * BLOCK_SIZE
    ref = run_engine(spec_2025, draws, 5, n_jobs=2)
    pids = list(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_once(_n: int) -> None:
        if not killed:
            killed.append(pids[0])
            os.kill(pids[0], signal.SIGKILL)

    out = run_engine(spec_2025, draws, 5, chunk_size=BLOCK_SIZE, client=client,
                     progress=kill_once)
    assert killed
    for name in ("inputs", "attributes", "values", "retained_count", "area_sum",
                 "trajectories"):
        np.testing.assert_array_equal(getattr(out, name), getattr(ref, name), name)
    client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_one_worker_equals_two(spec_2025, reference):
    distributed = pytest.importorskip("distributed")
    from kursk_da.engine._dask import local_cluster

    with local_cluster(1, 2) as cl, distributed.Client(cl) as client:
        one = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True,
                         chunk_size=2 * BLOCK_SIZE, client=client)
    _same_groups(reference, one, ("decision", "trajectories", "prior"))


@pytest.mark.slow
def test_sbc_on_two_workers_equals_in_process(spec_2025, cluster):
    from kursk_da.calibration._sbc import run_sbc

    _, client = cluster
    opts = {"draws": 30, "tune": 30, "chains": 1, "thin_to": 9, "bins": 10}
    local = run_sbc(spec_2025, 3, 4, **opts)
    dist = run_sbc(spec_2025, 3, 4, client=client, **opts)
    assert local.ranks.equals(dist.ranks)
    np.testing.assert_array_equal(local.divergences, dist.divergences)
    np.testing.assert_array_equal(local.saturation, dist.saturation)


@pytest.mark.slow  # dask retries the connection for 30 s
def test_unreachable_scheduler_is_a_clear_error_and_no_file(tmp_path, capsys):
    pytest.importorskip("distributed")
    from kursk_da.cli import main

    out = tmp_path / "r.nc"
    status = main(["analyze", str(SPEC), "--prior-only", "--draws", "100", "--no-progress",
                   "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)])
    assert status == 1
    assert "cannot connect to the dask scheduler" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --- per-draw data written block by block (bounded memory) --------------------------

GROUPS_ALL = ("prior", "decision", "trajectories", "triggers")


def _same_all(a: xr.DataTree, b: xr.DataTree, groups=GROUPS_ALL) -> None:
    for g in groups:
        if g in a.children or g in b.children:
            assert a[g].to_dataset().identical(b[g].to_dataset().load()), g


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1000 stored rows, so that a small run spans several appends."""
    import kursk_da.io._resultset as resultset
    import kursk_da.io._writer as writer

    monkeypatch.setattr(resultset, "DRAW_CHUNK", 1000)
    monkeypatch.setattr(writer, "DRAW_CHUNK", 1000)


@pytest.mark.parametrize("name", ["w.zarr", pytest.param("w.nc", marks=pytest.mark.slow)])
def test_written_block_by_block_equals_in_memory(spec_2025, reference, small_chunks,
                                                 tmp_path, name):
    out = tmp_path / name
    tree = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True,
                      chunk_size=3 * BLOCK_SIZE, n_jobs=1, out=out)
    # returned from memory, not read back: the per-draw variables opened lazily from the
    # file, the summaries the arrays built in memory (issue 27)
    assert type(tree["decision"]["value"].data).__module__.startswith("dask")
    assert type(tree["prior"][spec_2025.input_names[0]].data).__module__.startswith("dask")
    assert isinstance(tree["decision"]["expected_value"].data, np.ndarray)
    _same_all(reference, tree)
    _same_all(reference, load_result_set(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    opened = xr.open_datatree(out, chunks={})
    attrs = opened["decision"]["attributes"]
    assert attrs.chunks is not None and attrs.chunks[0][0] == 1000  # aligned chunks
    np.testing.assert_array_equal(attrs.values, reference["decision"]["attributes"].values)
    # the stored subsample, written the same way
    sub = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True, store_draws=2500,
                     out=tmp_path / f"s{name}")
    rows = stored_rows(DRAWS, 2500)
    assert sub.attrs["draws_stored"] == 2500 == sub["decision"].attrs["draws_stored"]
    np.testing.assert_array_equal(sub["prior"]["draw"].values, rows)
    np.testing.assert_array_equal(sub["decision"]["value"].values,
                                  reference["decision"]["value"].values[rows])
    np.testing.assert_array_equal(sub["triggers"]["trigger_day"].values,
                                  reference["triggers"]["trigger_day"].values[rows])


def test_failure_mid_run_leaves_no_file(spec_2025, small_chunks, tmp_path):
    seen = []

    def progress(n):
        seen.append(n)
        if len(seen) == 2:  # after the first chunk of rows has been written
            raise RuntimeError("interrupted")

    for name in ("f.zarr", "f.nc"):
        with pytest.raises(RuntimeError, match="interrupted"):
            kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True, chunk_size=1,
                       n_jobs=1, out=tmp_path / name, progress=progress)
        seen.clear()
    assert list(tmp_path.iterdir()) == []


def test_cluster_writes_the_same_per_draw_data(spec_2025, reference, cluster, small_chunks,
                                               tmp_path):
    _, client = cluster
    tree = kd.analyze(spec_2025, draws=DRAWS, seed=11, prior_only=True,
                      chunk_size=BLOCK_SIZE, client=client, out=tmp_path / "c.zarr")
    _same_all(reference, tree)


def test_nested_and_campaign_evppi_with_a_client_equal_in_process(spec_2025, reference,
                                                                  cluster):
    from kursk_da.voi._campaign import campaign_evppi_from_tree, campaign_evppi_nested

    _, client = cluster
    opts = {"n_outer": 6, "n_inner": 800, "seed": 4, "chunk_size": BLOCK_SIZE}
    a = campaign_evppi_nested(spec_2025, "ru_reinforcement_rate", **opts)
    b = campaign_evppi_nested(spec_2025, "ru_reinforcement_rate", client=client, **opts)
    assert (a.value, a.se, a.diagnostics) == (b.value, b.se, b.diagnostics)
    kw = {"rng": 3, "n_se_draws": 5, "groups": False,
          "parameters": ["ru_garrison", "ru_reinforcement_rate", "weight_ua_casualties"]}
    local = campaign_evppi_from_tree(reference, n_jobs=2, **kw)
    dist = campaign_evppi_from_tree(reference, client=client, **kw)
    assert local.identical(dist)


def test_sobol_and_scenarios_with_a_client_equal_in_process(spec_2025, cluster):
    from kursk_da.sensitivity._campaign import campaign_sobol
    from kursk_da.sensitivity._robustness import scenario_comparison

    _, client = cluster
    kw = {"n": 8, "seed": 5, "n_bootstrap": 10,
          "parameters": ["ru_reinforcement_rate", "ua_loss_defend", "weight_ua_casualties"]}
    assert campaign_sobol(spec_2025, n_jobs=2, **kw).identical(
        campaign_sobol(spec_2025, client=client, **kw))
    names = list(spec_2025.scenarios)[:2]
    a = scenario_comparison(spec_2025, draws=2 * BLOCK_SIZE + 17, seed=6, scenarios=names)
    b = scenario_comparison(spec_2025, draws=2 * BLOCK_SIZE + 17, seed=6, scenarios=names,
                            client=client)
    assert a.identical(b)


# --- memory bounded by the stored draws, not by the draws (issue 27) ------------------


def test_writer_keeps_copies_of_the_stored_rows_not_the_blocks(spec_2025, tmp_path):
    """A block storing a few rows of a subsample is not kept alive by the writer's buffer
    (it kept every such block until 65,536 rows were buffered: 0.5 GB at 10^7 draws)."""
    import weakref

    from kursk_da.engine._blocks import make_context, run_blocks
    from kursk_da.io._writer import ResultSetWriter

    ctx = make_context(spec_2025, 3 * BLOCK_SIZE, 11, store=30)
    writer = ResultSetWriter(spec_2025, ctx, tmp_path / "w.zarr", posterior=False)
    try:
        blocks = run_blocks(ctx, 0, ctx.n_blocks)
        refs = []
        while blocks:
            r = blocks.pop(0)
            refs.append(weakref.ref(r.values))
            writer(r)
            del r
        assert writer._buffered == 30  # fewer than a chunk: all still buffered
        assert all(ref() is None for ref in refs)
    finally:
        writer.abort()


def test_streaming_cvar_buffer_is_bounded_and_keeps_no_rows_without_chains():
    """The exact CVaR selection holds at most keep + max(4096, keep // 8) values per option
    and, for independent draws, no rows; the CVaR equals the exact one of every row."""
    rng = np.random.default_rng(5)
    n, k, alpha = 300 * BLOCK_SIZE // 4, 3, 0.05
    v = rng.standard_normal((n, k)) * [1.0, 2.0, 0.5]
    s = metrics.StreamingSummary(k, n, alpha)
    bound = s.keep + max(4096, s.keep // 8)
    largest = 0
    for a in range(0, n, BLOCK_SIZE):
        s.add(v[a:a + BLOCK_SIZE], a)
        largest = max(largest, int(s._tail_size.max()))
        assert sum(r.size for j in range(k) for r in s._tail_r[j]) == 0
    assert largest <= bound
    np.testing.assert_allclose(s.result()["cvar"], metrics.cvar(v, alpha), rtol=1e-12)
