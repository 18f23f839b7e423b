"""``ml4phys slurm-script <overrides>``: the sbatch script a SLURM sweep would submit, rendered without submitting.

The overrides are those of the sweep (``-m`` may be left out; ``hydra/launcher=slurm`` is added when no launcher is
named, ``data`` first means ``stage=data``). The sweep is expanded as Hydra's basic sweeper does
(``data.size=16,32`` is two jobs), the first job's config is composed and validated as ``ml4phys`` would, and the
launcher node (``conf/hydra/launcher/slurm.yaml`` with the site's ``local`` settings) is turned into the sbatch
parameters exactly as ``hydra_submitit_launcher`` and ``submitit`` do, then into submitit's own script
(``submitit.slurm.slurm._make_sbatch_string``): ``#SBATCH --array=0-1%2`` for two jobs, ``--cpus-per-task``,
``--mem``, ``--time``, ``--partition``, ``--account``, the setup lines. Needs the ``cluster`` extra.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Sequence

from omegaconf import OmegaConf

#: the launcher keys hydra_submitit_launcher gives the executor's constructor, not the sbatch parameters
_INIT_KEYS = {"_target_", "submitit_folder", "max_num_timeout"}


def sweep_jobs(overrides: Sequence[str]) -> list[list[str]]:
    """The overrides of each job of the sweep ``overrides``, in Hydra's basic sweeper's order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def render_sbatch(overrides: Sequence[str]) -> str:
    """The sbatch script of the SLURM sweep ``overrides`` (see the module docstring).

    Parameters
    ----------
    overrides : sequence of str
        As on the command line, sweeps included (``data.size=16,32``).

    Returns
    -------
    script : str
        The script submitit would write and submit with ``sbatch`` for this sweep.

    Raises
    ------
    ConfigError
        For an invalid override (the first job's config is validated).
    ImportError
        Without the ``cluster`` extra (submitit, hydra-submitit-launcher).
    """
    from hydra.core.utils import setup_globals
    from submitit.slurm.slurm import SlurmExecutor, _convert_mem, _make_sbatch_string

    from physics.app.config import compose

    overrides = [("stage=data" if o == "data" and i == 0 else o) for i, o in enumerate(overrides)]
    if not any(o.startswith("hydra/launcher=") for o in overrides):
        overrides.append("hydra/launcher=slurm")
    jobs = sweep_jobs(overrides)
    setup_globals()  # Hydra's ${now:} of the sweep folder
    cfg = compose(jobs[0], return_hydra_config=True)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    if not str(launcher.get("_target_", "")).endswith("SlurmLauncher"):
        from physics.app.schema import ConfigError

        raise ConfigError("hydra/launcher", f"must be a SLURM launcher (hydra/launcher=slurm). Got "
                                            f"{launcher.get('_target_')!r}.")
    equivalent = SlurmExecutor._equivalence_dict()  # mem_gb -> mem, timeout_min -> time, ...
    parameters = {equivalent.get(key, key): value for key, value in launcher.items()
                  if key not in _INIT_KEYS and value is not None}
    if "mem" in parameters:
        parameters["mem"] = _convert_mem(parameters["mem"])
    folder = str(Path(str(launcher["submitit_folder"])).expanduser().absolute())  # as submitit.Executor
    command = " ".join([shlex.quote(sys.executable), "-u -m submitit.core._submit", shlex.quote(folder)])
    return _make_sbatch_string(command=command, folder=folder, map_count=len(jobs) if len(jobs) > 1 else None,
                               **parameters)


def main(argv: Sequence[str]) -> int:
    """``ml4phys slurm-script [--output FILE] <overrides>``: print (or write) the script; return the exit status."""
    from physics.app.schema import ConfigError

    parser = argparse.ArgumentParser(prog="ml4phys slurm-script", description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", type=Path, help="write the script to this file instead of printing it")
    parser.add_argument("overrides", nargs="*", help="the sweep's overrides, e.g. data task=ising data.size=16,32")
    arguments = parser.parse_args([a for a in argv if a not in ("-m", "--multirun")])
    try:
        script = render_sbatch(arguments.overrides)
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except ImportError as error:
        print(f"Error: rendering the SLURM script needs the cluster extra (pip install 'ml4phys[cluster]'): {error}",
              file=sys.stderr)
        return 1
    if arguments.output is None:
        print(script)
    else:
        from core._atomic import atomic_path

        with atomic_path(arguments.output) as temporary:
            temporary.write_text(script)
    return 0
