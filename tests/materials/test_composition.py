"""Formula parser: brackets, decimals, hydrates and the decimal-point/hydrate-dot rule, bad input."""
import pytest

from physics.materials.composition import chemical_system, parse_formula


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("Fe2O3", {"Fe": 2, "O": 3}),
        ("Ag(AuS)2", {"Ag": 1, "Au": 2, "S": 2}),
        ("Ca3(PO4)2", {"Ca": 3, "P": 2, "O": 8}),
        ("Mg((OH)2)3", {"Mg": 1, "O": 6, "H": 6}),  # nested parentheses
        ("K4[Fe(CN)6]", {"K": 4, "Fe": 1, "C": 6, "N": 6}),  # brackets around parentheses
        ("[Co(NH3)6]Cl3", {"Co": 1, "N": 6, "H": 18, "Cl": 3}),
        ("{Fe}2", {"Fe": 2}),
        ("FeOFe", {"Fe": 2, "O": 1}),  # repeated element is summed
        ("Fe0.620C0.000953Mn0.000521", {"Fe": 0.62, "C": 0.000953, "Mn": 0.000521}),  # tiny amounts
        ("Nb6.16e-05Co0.146", {"Nb": 6.16e-05, "Co": 0.146}),  # exponent notation (matminer's WenAlloys test)
        ("Fe.5Ni.5", {"Fe": 0.5, "Ni": 0.5}),
        ("Al2.5Fe", {"Al": 2.5, "Fe": 1}),
        ("Fe2 O3", {"Fe": 2, "O": 3}),  # whitespace between tokens
        ("H₂O", {"H": 2, "O": 1}),  # Unicode subscripts
        ("Fe0Ni1", {"Ni": 1}),  # zero amounts are dropped
    ],
)
def test_parses_amounts(formula, expected):
    assert dict(parse_formula(formula).amounts) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "formula",
    ["CuSO4·5H2O", "CuSO4*5H2O", "CuSO4•5H2O", "CuSO4.5H2O", "CuSO4 · 5 H2O"],
)
def test_hydrate_separators(formula):
    assert dict(parse_formula(formula).amounts) == {"Cu": 1, "S": 1, "O": 9, "H": 10}


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("CaSO4.H2O", {"Ca": 1, "S": 1, "O": 5, "H": 2}),  # '.' not followed by a digit: separator
        ("NaCl.2H2O", {"Na": 1, "Cl": 1, "H": 4, "O": 2}),  # '.' + integer + H2O: separator
        ("KCl.MgCl2", {"K": 1, "Cl": 3, "Mg": 1}),
        ("Cu0.5H2O", {"Cu": 0.5, "H": 2, "O": 1}),  # integer part 0: a decimal, not a hydrate dot
        ("Fe0.5Ni0.5", {"Fe": 0.5, "Ni": 0.5}),  # '.' between digits, no water: decimal
        ("(CuSO4·5H2O)2", {"Cu": 2, "S": 2, "O": 18, "H": 20}),  # hydrate inside brackets
        ("Na2CO3·10H2O", {"Na": 2, "C": 1, "O": 13, "H": 20}),
        ("CaCl2·0.5H2O", {"Ca": 1, "Cl": 2, "H": 1, "O": 0.5}),  # decimal coefficient after a '·'
    ],
)
def test_decimal_point_versus_hydrate_dot(formula, expected):
    assert dict(parse_formula(formula).amounts) == pytest.approx(expected, rel=1e-12)


def test_fractions_and_chemical_system():
    composition = parse_formula("Fe2O3")
    assert composition.fractions == pytest.approx({"Fe": 0.4, "O": 0.6})
    assert sum(parse_formula("Fe0.620C0.000953Mn0.000521").fractions.values()) == pytest.approx(1.0, abs=1e-15)
    assert composition.chemical_system == "Fe-O"
    assert chemical_system(["Ni", "Fe", "Al"]) == "Al-Fe-Ni"
    assert composition.elements == ("Fe", "O")


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("", "the formula is empty"),
        ("   ", "the formula is empty"),
        ("Xx2", "position 0: unknown element 'Xx'"),
        ("FeQ", "position 2: unknown element 'Q'"),
        ("Og2", "unknown element 'Og'"),  # a real element outside the table H..Lr
        ("Fe2O)3", "position 4: unbalanced ')'"),
        ("(Fe2O3", "position 0: unbalanced '('"),
        ("Fe((O)", "position 2: unbalanced '('"),
        ("(Fe]", "position 3: mismatched bracket: expected ')', got ']'"),
        ("Fe-2O3", "position 2: negative amounts are not allowed"),
        ("-Fe", "position 0: negative amounts are not allowed"),
        ("2H2O", "position 0: a number must follow an element symbol"),
        ("fe2o3", "position 0: unexpected character 'f'"),
        ("Fe2O3.", "position 6: expected an element symbol or an opening bracket after the separator"),
        ("Fe2O3··H2O", "position 6: expected an element symbol"),
        ("()", "position 1: expected an element symbol"),
        ("Fe$", "position 2: unexpected character '$'"),
        ("Fe0", "the total amount of all elements is zero"),
    ],
)
def test_rejects_nonsense_with_position(formula, fragment):
    with pytest.raises(ValueError) as info:
        parse_formula(formula)
    message = str(info.value)
    assert fragment in message
    assert repr(formula) in message  # the error names the formula


def test_rejects_non_string():
    with pytest.raises(TypeError, match="must be a str"):
        parse_formula(None)
