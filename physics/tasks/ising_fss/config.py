"""Schema of ``task=ising_fss``: the per-size protocol of ``task=ising`` (:class:`IsingDataConfig`) at several
lattice sizes, with the defaults of Carrasquilla & Melko's finite-size scaling."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from physics.app.schema import ConfigError, param
from physics.tasks.ising.config import IsingDataConfig

#: val_loss: the networks' best validation loss (mean over sizes and seeds), the honest default;
#: tc_infinite_error: |T_c(inf) - exact| (for reporting, not tuning)
OBJECTIVES = ("val_loss", "tc_infinite_error")


@dataclass
class Config(IsingDataConfig):
    """``task=ising_fss``: T_c(L) of networks at several sizes, extrapolated to L -> infinity, Binder crossing."""

    SIZE_KEY = "sizes"

    name: str = param("ising_fss", help="the task", choices=("ising_fss",))
    sizes: List[int] = param(help="linear lattice sizes, at least 4 different (sorted at validation)", low=4,
                             factory=lambda: [8, 16, 24, 32, 48, 64])
    fit_p_value: float = param(0.05, help="drop the smallest size from the scaling fits while their chi2 p-value "
                                          "is below this (0: always fit every size)", low=0.0, high=1.0,
                               high_open=True)
    # the defaults below differ from task=ising's
    dense_range: Optional[List[float]] = param(help="... joined with a finer grid over [low, high] (needed for "
                                                    "the crossings; null: none)", factory=lambda: [2.0, 2.5])
    dense_step: float = param(0.025, help="step of the finer grid", low=0.0, low_open=True)
    # false: the protocol of Carrasquilla & Melko, trained on every temperature. With the window held out, the
    # crossing sits wherever the network puts its |m| threshold inside the unseen gap, which does not scale as
    # T_c + a/L (measured: README).
    hold_out_window: bool = param(False, help="true: no training or test data from the critical window; false "
                                              "(Carrasquilla & Melko): split it like every temperature")
    n_per_temperature: int = param(600, help="Monte Carlo configurations per temperature and size (cached)", low=2)
    n_seeds: int = param(5, help="networks per size from independent random streams (error bars over seeds)",
                         low=1)
    objective: str = param("val_loss", help="what a sweep minimises: val_loss, the networks' best validation loss "
                                            "(mean over sizes and seeds); tc_infinite_error = |T_c(inf) - exact| "
                                            "is for reporting, not tuning", choices=OBJECTIVES)

    def sizes_trained(self) -> list[int]:
        return list(self.sizes)

    def check(self) -> None:
        super().check()
        if len(self.sizes) < 4 or len(set(self.sizes)) != len(self.sizes):
            raise ConfigError("sizes", f"must list at least 4 different lattice sizes (3 fit parameters with "
                                       f"nu free, plus one degree of freedom). Got {self.sizes} instead.")
        self.sizes = sorted(self.sizes)  # (the memory of the largest size is checked by IsingDataConfig.check)


#: ``debug=tiny``: four small sizes, a coarse grid with 0.1 steps through the window (where the Binder crossing is
#: searched), enough configurations for the cumulants of L = 8 and 12 to differ significantly, 3 epochs
DEBUG = {"task": {"sizes": [4, 6, 8, 12], "temperature_step": 0.25, "dense_step": 0.1, "n_per_temperature": 200,
                  "n_seeds": 2, "n_bootstrap": 50, "n_jobs": 1},
         "trainer": {"epochs": 3}}
