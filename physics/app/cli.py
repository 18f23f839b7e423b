"""The command line: ``ml4phys ...`` (installed) and ``python run.py ...`` (in a clone) run :func:`main`.

Before Hydra starts (and so before any run folder exists), the overrides are composed and validated once;
an invalid one exits with status 1 and one line naming the key, what was given and what is allowed. In a
sweep the first value of every swept key is checked. ``--help`` prints the help generated from the schemas;
``--version`` prints the package's version (``ml4phys 0.1.0``), not Hydra's. ``ml4phys predict run=<run folder>
input=<file>`` applies a finished run's saved model to new inputs (:mod:`physics.app.predict`). ``ml4phys data
<overrides>`` generates only the task's Monte Carlo data (``stage=data``, :mod:`physics.app.cluster`);
``ml4phys slurm-script <overrides>`` prints the sbatch script of a SLURM sweep without submitting it
(:mod:`physics.app.slurm`).
"""
from __future__ import annotations

import logging
import re
import sys
from typing import Sequence

#: flags of Hydra's command line that take a value, so the value is not an override
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                     "--config-dir", "-cd", "--info", "-i", "--experimental-rerun", "--shell-completion", "-sc"}
_NO_RUN_FLAGS = {"--cfg", "-c", "--info", "-i", "--hydra-help", "--version", "--shell-completion", "-sc"}


def overrides_of(argv: Sequence[str]) -> list[str]:
    """The ``key=value`` / ``group=option`` arguments of a command line."""
    overrides, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument in _FLAGS_WITH_VALUE:
            skip = True
        elif not argument.startswith("-"):
            overrides.append(argument)
    return overrides


def _first_of_sweep(text: str) -> str | None:
    """``key=a,b`` -> ``key=a`` (range/choice sweeps alike); None for a continuous sweep."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType

    override = OverridesParser.create().parse_override(text)
    if not override.is_sweep_override():
        return text
    if not override.is_discrete_sweep():
        return None
    prefix = {OverrideType.ADD: "+", OverrideType.FORCE_ADD: "++", OverrideType.DEL: "~"}.get(override.type, "")
    return f"{prefix}{override.get_key_element()}={next(iter(override.sweep_string_iterator()))}"


def precheck(overrides: Sequence[str]) -> None:
    """Compose and validate the config of ``overrides`` (Hydra's own keys left to Hydra); raise ConfigError."""
    from physics.app.config import compose

    checked = [_first_of_sweep(o) for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    compose([o for o in checked if o is not None])


def _tag_log_lines(job_number: int) -> None:
    """Put ``[job N]`` in every log line of this process (the jobs of a parallel sweep interleave)."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter or logging.Formatter()
        plain = re.sub(r"\[job \d+\] ", "", formatter._fmt)
        handler.setFormatter(logging.Formatter(plain.replace("%(message)s", f"[job {job_number}] %(message)s"),
                                               formatter.datefmt))


def _job(cfg) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from physics.app.runner import run_job

    hydra_config = HydraConfig.get()
    in_sweep = hydra_config.mode == RunMode.MULTIRUN
    if in_sweep:
        _tag_log_lines(hydra_config.job.num)
    from physics.app.cluster import data_job, job_context  # stage=data; joblib backend, read-only cache

    if cfg.get("stage") == "data":
        return data_job(cfg, hydra_config.runtime.output_dir, in_sweep=in_sweep)
    from contextlib import nullcontext

    from physics.app.config import validate
    from physics.app.schema import ConfigError

    try:
        context = job_context(validate(cfg), cfg)
    except ConfigError:  # run_job reports it
        context = nullcontext()
    with context:
        return run_job(cfg, hydra_config.runtime.output_dir, in_sweep=in_sweep)


def main() -> None:
    """Entry point of ``ml4phys`` and ``run.py``: check, then hand the command line to Hydra."""
    if sys.argv[1:2] == ["predict"]:  # a saved run on new inputs: no config is composed, Hydra never starts
        from physics.app.predict import main as predict_main

        predict_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["slurm-script"]:  # the sbatch script a SLURM sweep would submit; nothing is submitted
        from physics.app.slurm import main as slurm_main

        raise SystemExit(slurm_main(sys.argv[2:]))
    if sys.argv[1:2] == ["data"]:  # the data stage: the same config, only the Monte Carlo data (physics.app.cluster)
        sys.argv[1:] = [*sys.argv[2:], "stage=data"]  # last: Hydra's parser wants the overrides after its flags
    if "--version" in sys.argv[1:]:  # Hydra would print its own version; nothing is composed or imported
        from core._version import package_version

        print(f"ml4phys {package_version()}")
        return
    import hydra

    from physics.app.config import CONF_DIR, register_configs
    from physics.app.schema import ConfigError
    from physics.app.signals import handle_termination

    handle_termination()  # SIGTERM (timeout, SLURM) unwinds like Ctrl-C: workers stopped, no temporary files left
    argv = sys.argv[1:]
    overrides = overrides_of(argv)
    register_configs()
    if "--help" in argv or "-h" in argv:
        from physics.app.help import help_text

        print(help_text([o for o in (_first_of_sweep(o) for o in overrides) if o]))
        return
    if not _NO_RUN_FLAGS.intersection(argv):
        try:
            precheck(overrides)
        except ConfigError as error:
            print(f"Error: {error}", file=sys.stderr)
            raise SystemExit(1) from None
    hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")(_job)()
    _exit_after_sweep()


def _exit_after_sweep() -> None:
    """After a multirun (which Hydra ends normally whatever its jobs did): print how many jobs failed, and exit
    with status 1 when every job failed or the summary could not be written."""
    from physics.app.aggregate import pop_sweep_outcome

    outcome = pop_sweep_outcome()
    if outcome is not None and outcome.message:
        print(outcome.message, file=sys.stderr)
        if outcome.exit_status:
            raise SystemExit(outcome.exit_status)
