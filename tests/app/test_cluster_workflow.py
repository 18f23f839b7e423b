"""The cluster workflow: ``ml4phys data`` as an array over sizes into one cache, training with ``data.cache=read``,
the SLURM script rendered without submitting, the ``parallel`` and ``local`` nodes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from physics.app import config as app_config
from physics.app.cluster import generate_data, job_context, selected_requests
from physics.app.config import validate
from physics.app.schema import ConfigError
from physics.ising.dataset import IsingCacheMissing
from tests.conftest import ROOT

#: the Ising task on a tiny budget: the network at L = 4 read on L = 8, so the data live at two sizes, 4 and 8
TINY = ["task=ising", "debug=tiny", "task.sizes=[8]", "task.n_replicas=1", "task.binder.enabled=false",
        "task.pca.enabled=false", "baseline=none", "trainer.epochs=2"]


def test_slurm_script_of_a_two_size_data_array(compose_config):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    from physics.app.slurm import render_sbatch

    script = render_sbatch(["data", *TINY, "task.n_jobs=3", "data.size=4,8", "local.partition=cpu",
                            "local.account=proj", "local.setup=[umask 002]"])
    lines = script.splitlines()
    for flag in ("--array=0-1%2", "--cpus-per-task=3", "--partition=cpu", "--account=proj", "--mem=8GB",
                 "--time=60"):
        assert f"#SBATCH {flag}" in lines, flag
    setup = lines[lines.index("# setup") + 1:lines.index("# command") - 1]
    assert setup == ["umask 002", "export OMP_NUM_THREADS=1", "export OPENBLAS_NUM_THREADS=1",
                     "export MKL_NUM_THREADS=1"]
    assert "-m submitit.core._submit" in lines[lines.index("# command") + 2]
    # one job: no array; the CPUs follow the larger of the workers and the BLAS threads, null n_jobs -> the site's
    single = render_sbatch([*TINY, "task.n_jobs=null", "local.cpus_per_task=6", "trainer.blas_threads=2"])
    assert "--array" not in single and "#SBATCH --cpus-per-task=6" in single
    assert "export OMP_NUM_THREADS=2" in single and "--account" not in single
    assert "#SBATCH --cpus-per-task=4" in render_sbatch([*TINY, "task.n_jobs=2", "trainer.blas_threads=4"])


def test_slurm_script_command_refuses_a_bad_override(capsys):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    from physics.app.slurm import main

    assert main(["data", *TINY, "data.size=5"]) == 1
    assert "data.size" in capsys.readouterr().err


@pytest.fixture(scope="module")
def array_sweep(tmp_path_factory):
    """``ml4phys data -m ... data.size=4,8`` with the basic launcher: a two-size data array into one cache."""
    root = tmp_path_factory.mktemp("array")
    cache, sweep = root / "cache", root / "sweep"
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "data", "-m", f"hydra.sweep.dir={sweep}", *TINY,
                             "data.size=4,8", f"data_dir={cache}"], cwd=root, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return cache, sweep


def npz_times(cache):
    return {path: path.stat().st_mtime_ns for path in cache.rglob("*.npz")}


def test_a_two_size_data_array_fills_the_cache_once(array_sweep, compose_config):
    cache, sweep = array_sweep
    rows = json.loads((sweep / "summary.json").read_text())["rows"]
    assert [(row["status"], row["data.size"], row["metrics.sizes"]) for row in rows] == [("ok", 4, [4]),
                                                                                        ("ok", 8, [8])]
    assert all(row["metrics.generated"] > 0 and row["metrics.read"] == 0 for row in rows)
    files = npz_times(cache)
    assert len(files) == sum(row["metrics.generated"] for row in rows)
    # the same array again generates nothing and rewrites no file
    for size in (4, 8):
        metrics = generate_data(validate(compose_config([*TINY, "stage=data", f"data.size={size}",
                                                         f"data_dir={cache}"])))
        assert metrics["generated"] == 0 and metrics["read"] > 0
    assert npz_times(cache) == files


def test_training_with_cache_read_uses_the_array_cache_and_never_generates(array_sweep, tmp_path, compose_config):
    from physics.app.runner import run

    cache, _ = array_sweep
    files = npz_times(cache)
    cfg = compose_config([*TINY, "data.cache=read", f"data_dir={cache}"])
    with job_context(validate(cfg), cfg):
        assert run(cfg, tmp_path / "run").finite
    # another seed needs other data: an error naming it and the command that generates it, nothing generated
    cfg = compose_config([*TINY, "data.cache=read", f"data_dir={cache}", "seed=5"])
    with job_context(validate(cfg), cfg), \
            pytest.raises(IsingCacheMissing, match=r"L=4 square \(seed 5,.*Generate them first: ml4phys data"):
        run(cfg, tmp_path / "run5")
    assert npz_times(cache) == files


def test_the_data_stage_covers_the_generative_task(tmp_path, compose_config):
    from physics.tasks.ising_generative.models import load_sets

    overrides = ["task=ising_generative", "debug=tiny", f"data_dir={tmp_path}"]
    assert generate_data(validate(compose_config([*overrides, "stage=data"])))["generated"] > 0
    cfg = compose_config([*overrides, "data.cache=read"])
    with job_context(validate(cfg), cfg):  # the task calls the Monte Carlo itself: the job's context makes it read
        train, heldout = load_sets(validate(cfg))
    assert len(train) and len(heldout)


def test_data_parts_cover_each_temperature_list_once(compose_config):
    base = [*TINY, "stage=data", "data.parts=2"]
    whole = selected_requests(validate(compose_config([*TINY, "stage=data"])))
    parts = [selected_requests(validate(compose_config([*base, f"data.part={i}"]))) for i in range(2)]
    for j, request in enumerate(whole):
        pieces = [T for part in parts for r in part if (r.L, r.seed, r.n_per_temperature) ==
                  (request.L, request.seed, request.n_per_temperature) for T in r.temperatures]
        assert sorted(pieces) == sorted(request.temperatures)


@pytest.fixture(scope="module")
def tiny_cfg():
    """The composed TINY config (composed once: each composition costs a fifth of a second)."""
    from physics.app.config import compose

    return compose(TINY)


@pytest.mark.parametrize("updates,key", [
    ({"stage": "data", "data.size": 5}, "data.size"),         # not a size the task loads (4 and 8)
    ({"data.size": 8}, "data.size"),                          # stage=train reads everything it needs
    ({"stage": "data", "data.cache": "read"}, "data.cache"),
    ({"stage": "data", "data.part": 2, "data.parts": 2}, "data.part"),
    ({"stage": "fit"}, "stage"),
    ({"parallel.n_jobs": 0}, "parallel.n_jobs"),
    ({"parallel.scheduler_address": "tcp://x:8786"}, "parallel.scheduler_address"),
    ({"parallel.backend": "mpi"}, "parallel.backend"),
    ({"local.cpus": 4}, "local.cpus"),
])
def test_bad_cluster_settings_are_refused_naming_the_key(tiny_cfg, updates, key):
    cfg = tiny_cfg.copy()
    OmegaConf.set_struct(cfg, False)
    for name, value in updates.items():
        OmegaConf.update(cfg, name, value, force_add=True)
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    assert caught.value.key == key


def test_stage_data_needs_a_task_with_monte_carlo_data(compose_config):
    with pytest.raises(ConfigError, match="task=fit has no Monte Carlo data") as caught:
        compose_config(["task=fit", "debug=tiny", "stage=data"])
    assert caught.value.key == "stage"


def test_dask_backend_without_dask_names_the_key_and_the_extra(compose_config):
    import importlib.util

    if importlib.util.find_spec("distributed") is not None:
        pytest.skip("dask.distributed is installed: backend=dask is valid")
    with pytest.raises(ConfigError, match=r"pip install 'ml4phys\[dask\]'") as caught:
        compose_config([*TINY, "parallel.backend=dask"])
    assert caught.value.key == "parallel.backend"


def test_the_parallel_node_sets_joblib_for_the_job(compose_config):
    from joblib.parallel import get_active_backend

    cfg = compose_config([*TINY, "parallel.backend=threading", "parallel.n_jobs=3"])
    with job_context(validate(cfg), cfg):
        backend, n_jobs = get_active_backend()
    assert type(backend).__name__ == "ThreadingBackend" and n_jobs == 3


def test_the_dask_backend_fills_the_same_cache(tmp_path, compose_config):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (the dask extra)")
    from physics.ising.dataset import generate_dataset

    caches = {backend: tmp_path / backend for backend in ("loky", "dask")}
    for backend, cache in caches.items():
        cfg = compose_config([*TINY, "stage=data", "data.size=4", f"data_dir={cache}", f"parallel.backend={backend}",
                              "parallel.n_jobs=2", "task.n_jobs=null"])
        with job_context(validate(cfg), cfg):
            assert generate_data(validate(cfg))["generated"] > 0
    (request, *_) = selected_requests(validate(cfg))
    loky, dask = (generate_dataset(request.L, request.temperatures, request.n_per_temperature, seed=request.seed,
                                   cache_dir=cache, read_only=True, progress=False) for cache in caches.values())
    assert (loky.spins == dask.spins).all() and (loky.energy == dask.energy).all()


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    """A copy of the package's configs that ``compose`` reads (the real conf/ is shared by every test)."""
    copy = tmp_path / "conf"
    shutil.copytree(app_config.CONF_DIR, copy)
    (copy / "local" / "default.yaml").unlink(missing_ok=True)  # a developer's own site file
    monkeypatch.setattr(app_config, "CONF_DIR", copy)
    return copy


def test_a_site_file_is_picked_up_when_present_and_nothing_breaks_without(conf_copy, compose_config):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    assert not (conf_copy / "local" / "default.yaml").exists()
    cfg = compose_config([*TINY, "hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.local.account is None and cfg.hydra.launcher.account is None and cfg.local.setup == []
    example = compose_config([*TINY, "local=example"])
    assert example.local.partition == "cpu" and example.local.setup[0] == "umask 002"
    (conf_copy / "local" / "default.yaml").write_text("# @package _global_\ndata_dir: /site/cache\n"
                                                      "local:\n  account: site\n  setup: [module load x]\n")
    cfg = compose_config([*TINY, "hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.data_dir == "/site/cache" and cfg.local.account == "site"
    assert cfg.hydra.launcher.account == "site" and cfg.hydra.launcher.setup[0] == "module load x"
    assert compose_config([*TINY, "data_dir=/mine"]).data_dir == "/mine"  # the command line wins
