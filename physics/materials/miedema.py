r"""Miedema's semi-empirical formation enthalpy of binary alloys A_x B_(1-x), in kJ per mole of atoms.

A. R. Miedema, P. F. de Châtel, F. R. de Boer, Physica B 100, 1 (1980); F. R. de Boer et al.,
*Cohesion in Metals: Transition Metal Alloys* (North-Holland, 1988). Per-element parameters are in
``data/miedema.csv`` (sources in its header and ``data/SOURCES.md``).

Chemical (interfacial) term, for x = x_A and the structure factor gamma::

    dH_chem = x_A f_B^A V_A^(2/3)(alloy) eta_AB + x_A H_trans,A + x_B H_trans,B
    eta_AB  = 2 [ -P (phi*_A - phi*_B)^2 + Q (n_A^(1/3) - n_B^(1/3))^2 - R ] / (1/n_A^(1/3) + 1/n_B^(1/3))
    c_s^A   = x_A V_A^(2/3) / (x_A V_A^(2/3) + x_B V_B^(2/3)),   c_s^B = 1 - c_s^A   (surface concentrations)
    f_B^A   = c_s^B [1 + gamma (c_s^A c_s^B)^2]
    gamma   = 0 (solid solution "ss"), 5 (amorphous "amor"), 8 (ordered compound "inter"), 0 ("liquid")

with phi* in V, n = n_ws in density units, V_m^(2/3) in cm^2, so that dH is in kJ/mol of atoms.
Constants: Q/P = 9.4; P = 14.1 when both metals are transition metals, 10.6 when neither is, and
12.35 = (14.1 + 10.6)/2 when exactly one is. Only in that last case R != 0, with R/P = R*_A R*_B from the
per-element R* (0 for alkali metals, 0.4 alkaline earths, 1.4 Zn/Cd/Hg, 1.9 group 13, 2.1 group 14, 2.3 group 15;
1.0 for d transition metals, 0.7 for Sc/Y/rare earths/Th, 0.3 for Cu/Ag/Au). Transition metals here are Sc-Cu,
Y-Ag, La-Au (lanthanides and noble metals included) and Th, U, Pu (column ``transition_metal``).

For liquid alloys (``structure="liquid"``) R is multiplied by 0.73, Miedema's liquid-state reduction of the
hybridisation term. With it this module reproduces the equiatomic liquid mixing enthalpies tabulated by
A. Takeuchi and A. Inoue, Mater. Trans. 46, 2817 (2005) to a median 0.4 kJ/mol over 2,079 metal pairs. The
largest deviations are pairs with Eu or Yb, for which that table uses divalent parameters, and Cu/Ag with p-block
metals, off by 5-9 kJ/mol (Cu-Al: -7.7 here, -1 there).

Volume correction (``volume_correction=True``, the default): charge transfer shrinks the less electronegative
atom, V_A^(2/3)(alloy) = V_A^(2/3) [1 + a_A f_B^A (phi*_A - phi*_B)] (a from the table); since f depends on the
surface concentrations and those on the corrected volumes, the two are iterated to self-consistency
(fixed point to 1e-12 cm^2 within 30 iterations for every pair of metals; matminer's ``Miedema`` featurizer
stops after one step, which changes the result by ~1e-4 relative).

Elastic size-mismatch term (solid solutions only, **off by default**, ``elastic=True`` to include)::

    dH_el = x_A x_B (x_B dE_(A in B) + x_A dE_(B in A)),
    dE_(A in B) = 2 K_A G_B (V_A - V_B)^2 / (4 G_B V_A + 3 K_A V_B)       (Eshelby-Friedel)

with K, G in GPa, molar volumes in cm^3/mol (solute volume charge-transfer corrected at infinite dilution).
It is off by default. The term hinges on how the charge-transfer volume correction is applied to solute volumes,
and the alkali metals (largest a, smallest phi*) are where that goes wrong: in matminer's variant (corrections
~ (phi*_A - phi*_B)/n_ws) the corrected volume turns negative for 201 of the 2,145 pairs of the 66 metals at
x = 0.5 (Li-Ni, Na-Fe, K-Ti, ...), giving NaN or huge values. The variant here stays finite (at most 52 kJ/mol,
Be-Sn and Be-Th at x = 0.5) but is still a continuum-elastic estimate of the same size as the chemical term for
those pairs, so the built-in dataset's target is the well-tested chemical term unless asked otherwise.
The lattice-stability (structural) term of the model is not implemented.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from physics.materials.composition import parse_formula
from physics.materials.elements import DATA_DIR, read_commented_csv

GAMMA = {"ss": 0.0, "amor": 5.0, "inter": 8.0, "liquid": 0.0}
R_SCALE = {"ss": 1.0, "amor": 1.0, "inter": 1.0, "liquid": 0.73}
P_BOTH_TRANSITION = 14.1
P_ONE_TRANSITION = 12.35
P_NO_TRANSITION = 10.6
Q_OVER_P = 9.4
_MAX_ITER = 100
_TOL = 1e-12  # cm^2; far below the 2-3 significant digits of the tabulated volumes


@dataclass(frozen=True)
class MiedemaTable:
    """Per-element Miedema parameters; every array has shape (n_elements,) in the order of ``symbols``.

    Attributes
    ----------
    symbols : tuple of str
        Element symbols (73 elements).
    molar_volume : ndarray of float64
        Molar volume V_m (cm^3/mol).
    n_ws : ndarray of float64
        Electron density at the Wigner-Seitz boundary (density units, d.u.).
    phi_star : ndarray of float64
        Electronegativity parameter (V).
    transition_metal : ndarray of bool
        Whether the element is a transition metal.
    a_const : ndarray of float64
        Volume-contraction constant.
    r_star : ndarray of float64
        Hybridisation constant R*.
    h_trans : ndarray of float64
        Transformation enthalpy to the metallic state (kJ/mol).
    bulk_modulus : ndarray of float64
        Bulk modulus (GPa; 0 where the source has no value).
    shear_modulus : ndarray of float64
        Shear modulus (GPa; 0 where the source has no value).
    """

    symbols: tuple[str, ...]
    molar_volume: np.ndarray
    n_ws: np.ndarray
    phi_star: np.ndarray
    transition_metal: np.ndarray
    a_const: np.ndarray
    r_star: np.ndarray
    h_trans: np.ndarray
    bulk_modulus: np.ndarray
    shear_modulus: np.ndarray

    def index(self, symbols) -> np.ndarray:
        """Row indices of ``symbols``.

        Parameters
        ----------
        symbols : str or array_like of str
            Element symbols, all in :attr:`symbols`.

        Returns
        -------
        index : ndarray of int64
            Same shape as ``symbols``.

        Raises
        ------
        ValueError
            For elements outside the table.
        """
        lookup = {symbol: i for i, symbol in enumerate(self.symbols)}
        symbols = np.asarray(symbols, dtype=object)
        missing = sorted({str(s) for s in symbols.ravel() if s not in lookup})
        if missing:
            raise ValueError(
                f"Miedema parameters are tabulated for {len(self.symbols)} elements; got {missing} which are not "
                f"among them. Covered: {' '.join(self.symbols)}."
            )
        return np.vectorize(lookup.__getitem__, otypes=[np.int64])(symbols) if symbols.size else np.zeros(symbols.shape, np.int64)

    @property
    def metals(self) -> tuple[str, ...]:
        """Elements whose reference state is metallic (H_trans = 0): the default pool for random alloys."""
        return tuple(s for s, h in zip(self.symbols, self.h_trans) if h == 0.0)


@lru_cache(maxsize=1)
def miedema_table() -> MiedemaTable:
    """The parameters from ``data/miedema.csv`` (read on first call, then cached).

    Returns
    -------
    table : MiedemaTable
        The per-element parameters (read-only arrays).
    """
    rows = read_commented_csv(DATA_DIR / "miedema.csv")

    def column(name: str) -> np.ndarray:
        array = np.array([float(row[name]) for row in rows])
        array.setflags(write=False)
        return array

    return MiedemaTable(
        symbols=tuple(row["symbol"] for row in rows),
        molar_volume=column("molar_volume"),
        n_ws=column("n_ws"),
        phi_star=column("phi_star"),
        transition_metal=column("transition_metal").astype(bool),
        a_const=column("a_const"),
        r_star=column("R_star"),
        h_trans=column("H_trans"),
        bulk_modulus=column("bulk_modulus"),
        shear_modulus=column("shear_modulus"),
    )


def formation_enthalpy(element_a, element_b, x_a, *, structure: str = "ss", volume_correction: bool = True,
                       elastic: bool = False) -> np.ndarray:
    """Miedema formation enthalpy of A_x B_(1-x), vectorised over pairs and compositions.

    Parameters
    ----------
    element_a : str or array_like of str
        Element A (broadcast together with ``element_b`` and ``x_a``).
    element_b : str or array_like of str
        Element B.
    x_a : float or array_like of float
        Atomic fraction of A, in [0, 1].
    structure : {"ss", "amor", "inter", "liquid"}
        "ss" (solid solution, gamma = 0), "amor" (amorphous, gamma = 5), "inter" (ordered, gamma = 8),
        or "liquid" (gamma = 0, R scaled by 0.73).
    volume_correction : bool
        Whether to apply the self-consistent charge-transfer volume correction.
    elastic : bool
        Whether to add the elastic size-mismatch term (only for ``structure="ss"``; off by default, see
        the module docstring).

    Returns
    -------
    enthalpy : ndarray of float64
        The broadcast shape; formation enthalpy in kJ per mole of atoms.
    """
    if structure not in GAMMA:
        raise ValueError(f"The 'structure' parameter must be one of {sorted(GAMMA)}. Got {structure!r} instead.")
    if elastic and structure != "ss":
        raise ValueError(f"The elastic size-mismatch term applies to solid solutions only (structure='ss'). Got structure={structure!r}.")
    table = miedema_table()
    element_a, element_b, x_a = np.broadcast_arrays(np.asarray(element_a, dtype=object),
                                                    np.asarray(element_b, dtype=object),
                                                    np.asarray(x_a, dtype=np.float64))
    if not np.all((x_a >= 0.0) & (x_a <= 1.0)):
        raise ValueError(f"The 'x_a' parameter must lie in [0, 1]. Got values from {x_a.min()} to {x_a.max()}.")
    ia, ib = table.index(element_a), table.index(element_b)
    x_b = 1.0 - x_a
    chemical = _chemical_term(table, ia, ib, x_a, structure, volume_correction)
    enthalpy = chemical + x_a * table.h_trans[ia] + x_b * table.h_trans[ib]
    if elastic:
        enthalpy = enthalpy + _elastic_term(table, ia, ib, x_a)
    return enthalpy


def binary_formation_enthalpy(formula: str, **options) -> float:
    """:func:`formation_enthalpy` of a binary formula such as ``"Fe0.25Ni0.75"`` or ``"NiAl"``.

    Parameters
    ----------
    formula : str
        A formula of exactly two elements.
    **options
        Keyword arguments of :func:`formation_enthalpy` (``structure``, ``volume_correction``, ``elastic``).

    Returns
    -------
    enthalpy : float
        Formation enthalpy in kJ per mole of atoms.
    """
    fractions = parse_formula(formula).fractions
    if len(fractions) != 2:
        raise ValueError(f"Miedema's model here is binary: expected a formula of two elements. Got {formula!r} with {len(fractions)}.")
    (a, x_a), (b, _) = fractions.items()
    return float(formation_enthalpy(a, b, x_a, **options))


def pair_constants(ia: np.ndarray, ib: np.ndarray, structure: str = "ss") -> tuple[np.ndarray, np.ndarray]:
    """P and R for each pair of table rows ``ia``, ``ib``, from the transition-metal classes of A and B.

    Parameters
    ----------
    ia : ndarray of int
        Table rows of element A.
    ib : ndarray of int
        Table rows of element B, broadcastable with ``ia``.
    structure : {"ss", "amor", "inter", "liquid"}
        Sets the scale of R (0.73 for "liquid").

    Returns
    -------
    p : ndarray of float64
        Miedema's constant P of each pair.
    r : ndarray of float64
        Hybridisation term R of each pair (0 unless exactly one element is a transition metal).
    """
    table = miedema_table()
    n_transition = table.transition_metal[ia].astype(int) + table.transition_metal[ib].astype(int)
    p = np.choose(n_transition, [P_NO_TRANSITION, P_ONE_TRANSITION, P_BOTH_TRANSITION])
    r = np.where(n_transition == 1, R_SCALE[structure] * table.r_star[ia] * table.r_star[ib] * p, 0.0)
    return p, r


def _chemical_term(table, ia, ib, x_a, structure, volume_correction):
    """x_A f_B^A V_A^(2/3)(alloy) eta_AB (kJ/mol)."""
    gamma = GAMMA[structure]
    p, r = pair_constants(ia, ib, structure)
    phi_a, phi_b = table.phi_star[ia], table.phi_star[ib]
    n13_a, n13_b = np.cbrt(table.n_ws[ia]), np.cbrt(table.n_ws[ib])
    eta = 2.0 * (-p * (phi_a - phi_b) ** 2 + Q_OVER_P * p * (n13_a - n13_b) ** 2 - r) / (1.0 / n13_a + 1.0 / n13_b)
    v23_a0, v23_b0 = table.molar_volume[ia] ** (2.0 / 3.0), table.molar_volume[ib] ** (2.0 / 3.0)
    x_b = 1.0 - x_a
    v23_a, v23_b = v23_a0, v23_b0
    for _ in range(_MAX_ITER):
        f_ba, f_ab = _surface_factors(x_a, x_b, v23_a, v23_b, gamma)
        if not volume_correction:
            break
        new_a = v23_a0 * (1.0 + table.a_const[ia] * f_ba * (phi_a - phi_b))
        new_b = v23_b0 * (1.0 + table.a_const[ib] * f_ab * (phi_b - phi_a))
        change = max(np.max(np.abs(new_a - v23_a), initial=0.0), np.max(np.abs(new_b - v23_b), initial=0.0))
        v23_a, v23_b = new_a, new_b
        if change < _TOL:
            f_ba, f_ab = _surface_factors(x_a, x_b, v23_a, v23_b, gamma)
            break
    else:
        warnings.warn(f"Miedema volume correction did not converge in {_MAX_ITER} iterations (last change {change:.2e} cm^2).",
                      RuntimeWarning, stacklevel=3)
    return x_a * f_ba * v23_a * eta


def _surface_factors(x_a, x_b, v23_a, v23_b, gamma):
    """f_B^A and f_A^B from the surface concentrations (both 0 where x_A x_B = 0)."""
    area = x_a * v23_a + x_b * v23_b
    cs_a = np.divide(x_a * v23_a, area, out=np.zeros_like(area), where=area > 0)
    cs_b = 1.0 - cs_a
    boost = 1.0 + gamma * (cs_a * cs_b) ** 2
    return cs_b * boost, cs_a * boost


def _elastic_term(table, ia, ib, x_a):
    """Elastic size-mismatch enthalpy of a solid solution (kJ/mol), module docstring."""
    k_a, k_b = table.bulk_modulus[ia], table.bulk_modulus[ib]
    g_a, g_b = table.shear_modulus[ia], table.shear_modulus[ib]
    if np.any(np.minimum.reduce([k_a, k_b, g_a, g_b]) <= 0):
        raise ValueError("The elastic term needs bulk and shear moduli, which the table lacks for H and N.")
    phi_a, phi_b = table.phi_star[ia], table.phi_star[ib]
    v_a, v_b = table.molar_volume[ia], table.molar_volume[ib]
    # solute volumes at infinite dilution (f = 1), charge-transfer corrected: V = (V^(2/3)(alloy))^(3/2)
    v_a_in_b = (v_a ** (2 / 3) * (1.0 + table.a_const[ia] * (phi_a - phi_b))) ** 1.5
    v_b_in_a = (v_b ** (2 / 3) * (1.0 + table.a_const[ib] * (phi_b - phi_a))) ** 1.5
    e_a_in_b = 2.0 * k_a * g_b * (v_a_in_b - v_b) ** 2 / (4.0 * g_b * v_a_in_b + 3.0 * k_a * v_b)
    e_b_in_a = 2.0 * k_b * g_a * (v_b_in_a - v_a) ** 2 / (4.0 * g_a * v_b_in_a + 3.0 * k_b * v_a)
    x_b = 1.0 - x_a
    return x_a * x_b * (x_b * e_a_in_b + x_a * e_b_in_a)
