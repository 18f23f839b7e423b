"""Speed of the materials data layer: formula parsing, Magpie descriptors, Miedema enthalpies.

    python benchmarks/bench_materials.py           # n = 1,000 / 5,000 / 20,000 compositions (~2 min on 2 cores)
    python benchmarks/bench_materials.py --quick   # n = 1,000 only

Workloads: random binary alloys from ``miedema_dataset`` (2 elements each) and random 2-6 element compositions
with fractional amounts (like a Matbench file). For each n the table gives the median of 5 runs of

- parse: ``parse_formula`` of every formula with the parser cache cleared first;
- magpie (vectorised): ``magpie_features`` (132 features; parsing cached), the product code;
- magpie (loop): the same 132 statistics computed composition by composition with numpy, the obvious
  implementation, as the reference measured in the same run (ratio = loop time / vectorised time; median of 3
  runs, 1 run at n = 20,000);
- miedema: ``formation_enthalpy`` of the n binary alloys (vectorised, self-consistent volume correction).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import format_table, machine_description, median_seconds  # noqa: E402
from physics.materials.composition import _parse_cached, parse_formula  # noqa: E402
from physics.materials.dataset import miedema_dataset  # noqa: E402
from physics.materials.descriptors import magpie_features  # noqa: E402
from physics.materials.elements import ELEMENT_SYMBOLS, element_index, element_table  # noqa: E402
from physics.materials.miedema import formation_enthalpy  # noqa: E402


def loop_features(formulas) -> np.ndarray:
    """Reference: the six statistics of every property, one composition at a time ("ignore" missing policy)."""
    table = element_table().values
    rows = []
    for formula in formulas:
        fractions = parse_formula(formula).fractions
        values = table[[element_index(s) for s in fractions]]  # (k, p)
        f = np.array(list(fractions.values()))
        row = []
        for p in range(values.shape[1]):
            ok = ~np.isnan(values[:, p])
            if not ok.any():
                row += [np.nan] * 6
                continue
            x, w = values[ok, p], f[ok] / f[ok].sum()
            mean = w @ x
            mode = x[w >= w.max() * (1 - 1e-9)].min()
            row += [x.min(), x.max(), x.max() - x.min(), mean, w @ np.abs(x - mean), mode]
        rows.append(row)
    return np.array(rows)


def random_compositions(n: int, rng: np.random.Generator) -> list[str]:
    formulas = []
    for _ in range(n):
        k = rng.integers(2, 7)
        elements = rng.choice(94, size=k, replace=False)
        formulas.append("".join(f"{ELEMENT_SYMBOLS[e]}{a:.4g}" for e, a in zip(elements, rng.uniform(0.01, 5, size=k))))
    return formulas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only n = 1,000")
    args = parser.parse_args()
    sizes = (1000,) if args.quick else (1000, 5000, 20000)
    print(machine_description())
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        alloys = miedema_dataset(n, seed=1)
        pairs = [tuple(parse_formula(f).fractions.items()) for f in alloys.formulas]
        a, b = [p[0][0] for p in pairs], [p[1][0] for p in pairs]
        x = np.array([p[0][1] for p in pairs])
        miedema = median_seconds(lambda: formation_enthalpy(a, b, x), 5)
        for label, formulas in (("binary alloys", list(alloys.formulas)), ("2-6 elements", random_compositions(n, rng))):
            def parse_all():
                _parse_cached.cache_clear()
                for formula in formulas:
                    parse_formula(formula)

            parse = median_seconds(parse_all, 5)
            fast = median_seconds(lambda: magpie_features(formulas), 5)
            slow = median_seconds(lambda: loop_features(formulas), 1 if n > 5000 else 3, warmup=0)
            assert np.allclose(magpie_features(formulas).values, loop_features(formulas), rtol=1e-10, atol=1e-9, equal_nan=True)
            rows.append([f"{n:,}", label, f"{parse * 1e3:.0f}", f"{fast * 1e3:.0f}", f"{slow * 1e3:.0f}",
                         f"{slow / fast:.0f}x", f"{miedema * 1e3:.1f}" if label == "binary alloys" else "-"])
    print(format_table(["n", "compositions", "parse ms", "magpie vectorised ms", "magpie loop ms",
                        "loop / vectorised", "miedema ms"], rows))


if __name__ == "__main__":
    main()
