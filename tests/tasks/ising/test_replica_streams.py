"""The replicas of one run are independent: no random stream is shared by two replicas (issue 11: the replicas of
one seed looked closer to each other than to those of other seeds; this rules out a shared stream)."""
import sys
from types import SimpleNamespace

import numpy as np

import physics.app.seeding as seeding
from physics.app.config import validate
from physics.tasks.ising import replica as replica_module

SEEDING = {"generator", "seed_sequence", "integer_seed"}


def _fake_dataset(config, L, temperatures, n_per_temperature, seed, lattice="square"):
    """Random spins in place of Monte Carlo (the streams are under test, not the physics)."""
    T = np.repeat(np.asarray(temperatures, dtype=np.float64), n_per_temperature)
    spins = np.where(np.random.default_rng(seed).random((T.size, L, L)) < 0.5, -1, 1).astype(np.int8)
    return SimpleNamespace(spins=spins, temperature=T)


def _record_streams(monkeypatch, config, replica: int) -> set:
    """Every (seed, stream) that replica ``replica`` draws from: the Monte Carlo seeds of its datasets, and every
    call of the seeding functions from any module of the app or of the task (network weights, batches,
    augmentation, baselines)."""
    keys = set()
    monkeypatch.setattr(replica_module, "load_dataset",
                        lambda config, L, T, n, seed, lattice="square": (keys.add(("monte carlo", seed)),
                                                                          _fake_dataset(config, L, T, n, seed))[1])
    originals = {name: getattr(seeding, name) for name in SEEDING}
    for module in list(sys.modules.values()):
        if module is seeding or not getattr(module, "__name__", "").startswith(("physics.app", "physics.tasks.ising")):
            continue
        for name in SEEDING & set(vars(module)):
            original = originals[name]
            if getattr(module, name) is original:
                def recording(seed, purpose, _original=original):
                    keys.add((int(seed), purpose))
                    return _original(seed, purpose)
                monkeypatch.setattr(module, name, recording)
    replica_module.run_replica(config, replica)
    monkeypatch.undo()
    return keys


def test_two_replicas_share_no_random_stream(debug_config, tmp_path, monkeypatch):
    config = validate(debug_config(["task=ising", f"data_dir={tmp_path}", "task.augment=[translate]",
                                    "task.binder.enabled=false", "task.pca.enabled=false", "task.n_train_per_temperature=10",
                                    "task.n_per_temperature=4", "trainer.epochs=1",
                                    "baseline.random_forest.n_estimators=2", "baseline.sklearn_mlp.max_iter=2"]))
    first, second = (_record_streams(monkeypatch, config, r) for r in (0, 1))
    assert {kind for kind, _ in first} >= {"monte carlo", config.seed}  # data, and streams under the seed
    purposes = {purpose for _, purpose in first | second}
    assert any(str(p).startswith("training/") for p in purposes) and "network" in purposes
    assert any(str(p).startswith("augment/") for p in purposes)
    assert any(str(p).startswith("baseline/") for p in purposes)
    assert first.isdisjoint(second), sorted(first & second, key=str)
