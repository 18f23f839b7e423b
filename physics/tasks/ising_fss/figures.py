"""Figures and tables of ``task=ising_fss``: T_c(L) against 1/L with the scaling fits and the Binder crossings,
the data collapse, and the per-size and per-temperature tables."""
from __future__ import annotations

from pathlib import Path

from physics.app.io import write_csv
from physics.tasks.ising.data import curve_columns
from physics.transition import plots


def results(T, sizes, per_size: dict, fits: dict, binder: list, tc_exact: float, task, run_dir: Path) -> None:
    """finite_size_scaling.png, collapse.png, tc_by_size.csv and per_temperature.csv.

    per_size: L -> {"scores": name -> ModelScores, "binder": (U_4 (n_T,), bootstrap replicates (n_boot, n_T))};
    fits: the network's scaling fits (key -> fit dict or None); binder: (L_small, L_large, CrossingEstimate).
    """
    figures = run_dir / "figures"
    network = {L: per_size[L]["scores"]["network"] for L in sizes}
    names = {"nu_fixed": "nu = 1, L >= {min_size}", "nu_free": "nu = {nu:.2f} ± {nu_stderr:.2f}, L >= {min_size}",
             "all_sizes_nu_fixed": "nu = 1, all sizes"}
    labelled = {names[key].format(**fit) + (" (nu at its bound: unconstrained)" if fit["nu_at_bound"] else ""): fit
                for key, fit in fits.items() if fit is not None}
    binder_curves = {L: (per_size[L]["binder"][0], per_size[L]["binder"][1].std(axis=0, ddof=1)) for L in sizes}
    plots.finite_size_scaling(sizes, [network[L].tc.value for L in sizes], [network[L].tc.stderr for L in sizes],
                              labelled, binder, binder[-1][2], tc_exact, binder_curves, T,
                              task.critical_window, figures / "finite_size_scaling.png")
    plots.collapse(T, {L: (network[L].tc.curve, network[L].tc.curve_stderr) for L in sizes}, tc_exact, 1.0,
                   task.critical_window, figures / "collapse.png")
    write_csv(run_dir / "tc_by_size.csv",
              [{"L": L, **{f"{name}_{key}": value for name, score in per_size[L]["scores"].items()
                           for key, value in score.metrics(tc_exact).items()}} for L in sizes])
    rows = []
    for L in sizes:
        for i, temperature in enumerate(T):
            rows.append({"L": L, "T": temperature, "binder": binder_curves[L][0][i],
                         "binder_stderr": binder_curves[L][1][i], **curve_columns(per_size[L]["scores"], i)})
    write_csv(run_dir / "per_temperature.csv", rows)
