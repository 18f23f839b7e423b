"""ml4phys entry point: ``python run.py task=ising model=cnn optimizer=adam optimizer.lr=3e-3``.

Composes the config in ``conf/`` and runs the task; returns the task's objective (a float) for sweepers.
"""
import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from physics.config import register_configs
from physics.tasks import run_job

register_configs()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    return run_job(cfg, hydra_cfg.runtime.output_dir, in_sweep=hydra_cfg.mode == RunMode.MULTIRUN)


if __name__ == "__main__":
    main()
