"""Recurrent layers and the rnn factory: forward against the textbook equations, backpropagation through time
(full and truncated) against central finite differences in float64, whole networks, in-place safety, learning a
task that needs memory, gradient clipping, and bad input.

The gradient tolerance RTOL = 1e-6 (relative error of the whole gradient array) is justified in gradcheck.py;
correct gradients come out near 1e-9, while a wrong step or a missing chunk boundary gives errors ~0.1.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import RTOL, check_layer, check_network, numerical_gradient, relative_error
from scipy.special import expit

from core import InvalidParameterError
from core.losses import MeanSquaredError
from core.models import rnn
from core.network import Sequential
from core.optim import SGD, Adam
from core.recurrent import GRU, LSTM, SimpleRNN, TimeDense
from core.training import TrainingSettings, fit

CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
T, F, UNITS, BATCH = 7, 2, 3, 3  # 7 steps: chunks of 2 and 3 leave a partial last chunk


def built(layer, input_shape=(T, F), seed=0):
    """``layer`` built in float64 with random nonzero biases (so that they matter)."""
    rng = np.random.default_rng(seed)
    layer.build(input_shape, rng, "float64")
    if "b" in layer.params:
        layer.params["b"][...] = 0.3 * rng.standard_normal(layer.params["b"].shape)
    return layer


def assert_small(errors: dict[str, float]) -> None:
    assert errors, "no gradient was compared"
    for name, error in errors.items():
        assert error < RTOL, f"gradient of {name}: relative error {error:.2e} >= {RTOL}"


# -- an independent per-step reference of the cell equations, from any initial state ---------------------------
def reference_states(layer, X, h0=None, c0=None):
    """Hidden states (T, batch, H) of ``layer`` on X (batch, T, F) from (h0, c0), step by step as in the papers;
    also returns the final (h, c)."""
    W, U, b, n = layer.params["W"], layer.params["U"], layer.params["b"], layer.units
    h = np.zeros((len(X), n)) if h0 is None else h0
    c = np.zeros((len(X), n)) if c0 is None else c0
    states = []
    for t in range(X.shape[1]):
        x = X[:, t]
        if isinstance(layer, SimpleRNN):
            f = {"tanh": np.tanh, "sigmoid": expit, "relu": lambda a: np.maximum(a, 0), "identity": lambda a: a}
            h = f[layer.activation](x @ W + h @ U + b)
        elif isinstance(layer, LSTM):
            a = x @ W + h @ U + b
            i, f, g, o = expit(a[:, :n]), expit(a[:, n:2 * n]), np.tanh(a[:, 2 * n:3 * n]), expit(a[:, 3 * n:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            xa, ha = x @ W + b, h @ U
            r, z = expit(xa[:, :n] + ha[:, :n]), expit(xa[:, n:2 * n] + ha[:, n:2 * n])
            candidate = np.tanh(xa[:, 2 * n:] + r * ha[:, 2 * n:])
            h = (1 - z) * candidate + z * h
        states.append(h)
    return (np.stack(states) if states else np.zeros((0, len(X), n))), (h, c)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_follows_the_cell_equations(cell, return_sequences):
    layer = built(CELLS[cell](UNITS, return_sequences=return_sequences))
    X = np.random.default_rng(1).standard_normal((BATCH, T, F))
    states, _ = reference_states(layer, X)
    expected = states.transpose(1, 0, 2) if return_sequences else states[-1]
    Y = layer.forward(X)
    assert Y.shape == (BATCH, *layer.output_shape)
    np.testing.assert_allclose(Y, expected, rtol=1e-12, atol=1e-14)  # same float64 sums, other grouping


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "identity"])
def test_simple_rnn_activations_follow_the_equations_and_gradients(activation):
    rng = np.random.default_rng(2)
    layer = built(SimpleRNN(UNITS, activation=activation, return_sequences=True))
    X = rng.standard_normal((BATCH, T, F))
    np.testing.assert_allclose(layer.forward(X), reference_states(layer, X)[0].transpose(1, 0, 2), rtol=1e-12,
                               atol=1e-14)
    if activation == "relu":  # a step of 1e-6 moves pre-activations by < 1e-5: keep every one >= 1e-3 from the kink
        states = reference_states(layer, X)[0]
        previous = np.concatenate([np.zeros((1, BATCH, UNITS)), states[:-1]])
        pre = X.transpose(1, 0, 2) @ layer.params["W"] + previous @ layer.params["U"] + layer.params["b"]
        assert np.abs(pre).min() > 1e-3
    assert_small(check_layer(layer, X, rng))


# -- full backpropagation through time ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_full_bptt_gradients(cell, return_sequences):
    rng = np.random.default_rng(3)
    layer = built(CELLS[cell](UNITS, return_sequences=return_sequences))
    errors = check_layer(layer, rng.standard_normal((BATCH, T, F)), rng)
    assert set(errors) == {"X", "W", "U", "b"}
    assert_small(errors)


def test_full_bptt_gradients_of_a_long_lstm_sequence_with_large_weights():
    """20 steps with weights 3x their initial scale: saturated gates, the gradient through many products."""
    rng = np.random.default_rng(4)
    layer = built(LSTM(4, return_sequences=True), (20, 3))
    for value in layer.params.values():
        value *= 3.0
    assert_small(check_layer(layer, rng.standard_normal((2, 20, 3)), rng))


@pytest.mark.parametrize("use_bias", [True, False])
def test_time_dense_gradients_and_per_step_equality(use_bias):
    rng = np.random.default_rng(5)
    layer = built(TimeDense(4, use_bias=use_bias), (T, F))
    X = rng.standard_normal((BATCH, T, F))
    Y = layer.forward(X)
    assert Y.shape == (BATCH, T, 4)
    for t in range(T):  # the same Dense at every step
        np.testing.assert_allclose(Y[:, t], X[:, t] @ layer.params["W"] + layer.params.get("b", 0.0), rtol=1e-13)
    errors = check_layer(layer, X, rng)
    assert set(errors) == ({"X", "W", "b"} if use_bias else {"X", "W"})
    assert_small(errors)


# -- truncated backpropagation through time ----------------------------------------------------------------------
def gradients(layer, X, R):
    """dX and parameter gradients of L = sum(forward(X) * R)."""
    layer.forward(X, training=True)
    dX = layer.backward(R.copy())
    return dX, {name: grad.copy() for name, grad in layer.grads.items()}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_truncate_at_least_the_length_is_full_bptt_exactly(cell, return_sequences):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((BATCH, T, F))
    R = rng.standard_normal((BATCH, T, UNITS) if return_sequences else (BATCH, UNITS))
    full = gradients(built(CELLS[cell](UNITS, return_sequences=return_sequences)), X, R)
    for k in (T, T + 3):
        truncated = gradients(built(CELLS[cell](UNITS, return_sequences=return_sequences, truncate=k)), X, R)
        np.testing.assert_array_equal(truncated[0], full[0])
        for name in full[1]:
            np.testing.assert_array_equal(truncated[1][name], full[1][name])


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("truncate", [2, 3])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_truncated_bptt_is_the_sum_of_chunk_gradients_with_frozen_entering_state(cell, truncate, return_sequences):
    """The definition of truncated BPTT, computed independently: for each chunk [s, e) of ``truncate`` steps, the
    state entering it is computed by the reference forward and frozen; the chunk's loss terms sum(R_t h_t), t in
    [s, e), are differentiated by finite differences through the reference cell run from that state; the parameter
    gradients of the chunks add up, and dX of the chunk's inputs comes from its own chunk only."""
    rng = np.random.default_rng(7)
    layer = built(CELLS[cell](UNITS, return_sequences=return_sequences, truncate=truncate))
    X = rng.standard_normal((BATCH, T, F))
    R = rng.standard_normal((BATCH, T, UNITS))
    if not return_sequences:
        R[:, :-1] = 0.0  # only the last output is read
    dX, grads = gradients(layer, X, R if return_sequences else R[:, -1])

    expected_dX = np.zeros_like(X)
    expected = {name: np.zeros_like(value) for name, value in layer.params.items()}
    for start in range(0, T, truncate):
        stop = min(start + truncate, T)
        _, (h, c) = reference_states(layer, X[:, :start])
        chunk = X[:, start:stop].copy()

        def objective():
            return float(np.sum(reference_states(layer, chunk, h, c)[0] * R[:, start:stop].transpose(1, 0, 2)))

        expected_dX[:, start:stop] = numerical_gradient(objective, chunk)
        for name, value in layer.params.items():
            expected[name] += numerical_gradient(objective, value)
    assert_small({"X": relative_error(dX, expected_dX),
                  **{name: relative_error(grads[name], expected[name]) for name in grads}})
    if not return_sequences:  # only the last chunk receives gradient
        assert not dX[:, :truncate * ((T - 1) // truncate)].any()


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_truncated_bptt_equals_full_bptt_on_a_loss_reading_the_first_chunk(cell):
    """Outputs of the first chunk depend on no earlier state, so cutting at chunk boundaries changes nothing:
    the truncated layer's gradients match finite differences of its own forward."""
    rng = np.random.default_rng(8)
    truncate = 3
    layer = built(CELLS[cell](UNITS, return_sequences=True, truncate=truncate))
    X = rng.standard_normal((BATCH, T, F))
    R = rng.standard_normal((BATCH, T, UNITS))
    R[:, truncate:] = 0.0
    dX, grads = gradients(layer, X, R)

    def objective():
        return float(np.sum(layer.forward(X) * R))

    errors = {"X": relative_error(dX, numerical_gradient(objective, X))}
    errors.update({name: relative_error(grads[name], numerical_gradient(objective, value))
                   for name, value in layer.params.items()})
    assert_small(errors)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_truncation_cuts_the_gradient_to_earlier_chunks(cell):
    """A loss on the last output: full BPTT reaches x_0, truncated BPTT only the inputs of the last chunk, and there
    it agrees with full BPTT (the paths from those inputs to the output stay inside the chunk)."""
    rng = np.random.default_rng(9)
    X = rng.standard_normal((BATCH, T, F))
    R = rng.standard_normal((BATCH, UNITS))
    full_dX = gradients(built(CELLS[cell](UNITS)), X, R)[0]
    cut_dX = gradients(built(CELLS[cell](UNITS, truncate=3)), X, R)[0]
    assert np.abs(full_dX[:, 0]).max() > 1e-6
    assert not cut_dX[:, :6].any()
    np.testing.assert_allclose(cut_dX[:, 6:], full_dX[:, 6:], rtol=1e-12)  # same float64 operations


# -- whole networks ----------------------------------------------------------------------------------------------
NETWORKS = [  # (rnn keyword arguments, output shape)
    ({"cell": "lstm", "units": (3, 2), "n_outputs": 2, "hidden_layer_sizes": (3,), "activation": "tanh"}, (2,)),
    ({"cell": "gru", "units": 3, "n_outputs": 1}, (1,)),
    ({"cell": "rnn", "units": (2, 3), "n_outputs": 1, "head": "sequence"}, (T,)),
    ({"cell": "lstm", "units": 3, "n_outputs": 2, "head": "sequence", "hidden_layer_sizes": (4,),
      "activation": "softplus"}, (2 * T,)),
    ({"cell": "gru", "units": (2, 2), "n_outputs": 2, "head": "sequence"}, (2 * T,)),
]


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_rnn_network_gradients_through_a_loss(index):
    kwargs, output_shape = NETWORKS[index]
    rng = np.random.default_rng(10 + index)
    network = rnn(**kwargs).build((T, F), rng, "float64")
    assert network.output_shape == output_shape
    for p in network.parameters():
        if p.name.endswith(".b"):
            p.value[...] = 0.1 * rng.standard_normal(p.value.shape)
    X = rng.standard_normal((BATCH, T, F))
    assert_small(check_network(network, MeanSquaredError(), X, rng.standard_normal((BATCH, *output_shape))))


def test_sequence_head_is_time_major_per_sample():
    """Output index t * n_outputs + k of head="sequence" is output k at step t: it changes only with x_0..x_t."""
    network = rnn("gru", 3, n_outputs=2, head="sequence").build((T, F), 0, "float64")
    rng = np.random.default_rng(11)
    X = rng.standard_normal((1, T, F))
    Y = network.forward(X).reshape(T, 2)
    X_later = X.copy()
    X_later[:, 4:] += 1.0
    Y_later = network.forward(X_later).reshape(T, 2)
    np.testing.assert_array_equal(Y_later[:4], Y[:4])
    assert np.abs(Y_later[4:] - Y[4:]).min() > 0


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_in_place_flags_do_not_corrupt_results(index):
    """The network (layers told they may overwrite what they receive) gives the same outputs and gradients as a
    copy whose layers are run one by one with every in-place flag off; neither touches X nor d_output."""
    kwargs, output_shape = NETWORKS[index]
    network = rnn(**kwargs).build((T, F), 1, "float64")
    plain = Sequential.from_config(network.get_config()).build((T, F), 1, "float64")
    plain.set_weights(network.get_weights())
    for layer in plain.layers:
        layer.inplace_forward = layer.inplace_backward = False
        if hasattr(layer, "function"):
            layer.function.inplace_forward = layer.function.inplace_backward = False
    assert any(layer.inplace_forward or layer.inplace_backward for layer in network.layers[1:])
    rng = np.random.default_rng(12)
    X = rng.standard_normal((BATCH, T, F))
    d_output = rng.standard_normal((BATCH, *output_shape))
    X_copy, d_copy = X.copy(), d_output.copy()
    Y = network.forward(X, training=True)
    dX = network.backward(d_output)
    expected = X
    for layer in plain.layers:
        expected = layer.forward(expected, True)
    np.testing.assert_array_equal(Y, expected)
    grad = d_copy.copy()
    for layer in reversed(plain.layers):
        grad = layer.backward(grad)
    np.testing.assert_array_equal(dX, grad)
    for a, b in zip(network.parameters(), plain.parameters()):
        np.testing.assert_array_equal(a.grad, b.grad)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(d_output, d_copy)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_outputs_are_fresh_arrays(cell, return_sequences):
    """fresh_output: overwriting the returned array (as a following in-place layer may) leaves backward intact."""
    rng = np.random.default_rng(13)
    X = rng.standard_normal((BATCH, T, F))
    R = rng.standard_normal((BATCH, T, UNITS) if return_sequences else (BATCH, UNITS))
    layer = built(CELLS[cell](UNITS, return_sequences=return_sequences))
    expected = gradients(layer, X, R)
    layer.forward(X)[...] = 1e3
    dX = layer.backward(R.copy())
    np.testing.assert_array_equal(dX, expected[0])
    for name, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, expected[1][name])


def test_input_grad_false_leaves_parameter_gradients_equal():
    network = rnn("lstm", (3, 2), 1, hidden_layer_sizes=(2,)).build((T, F), 0, "float64")
    rng = np.random.default_rng(14)
    X, d_output = rng.standard_normal((BATCH, T, F)), rng.standard_normal((BATCH, 1))
    network.forward(X, training=True)
    network.backward(d_output)
    full = {p.name: p.grad.copy() for p in network.parameters()}
    assert network.backward(d_output, input_grad=False) is None
    for p in network.parameters():
        np.testing.assert_array_equal(p.grad, full[p.name])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_float32_networks_stay_float32(cell):
    for head, shape in (("last", (1,)), ("sequence", (T,))):
        network = rnn(cell, 4, head=head).build((T, F), 0)
        X = np.random.default_rng(15).standard_normal((BATCH, T, F)).astype(np.float32)
        Y = network.forward(X, training=True)
        dX = network.backward(np.ones_like(Y))
        assert Y.shape == (BATCH, *shape) and Y.dtype == dX.dtype == np.float32
        assert all(p.value.dtype == p.grad.dtype == np.float32 for p in network.parameters())


# -- initialisation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_recurrent_weights_are_orthogonal_per_gate_and_lstm_forget_bias(cell):
    layer = CELLS[cell](5)
    layer.build((T, F), np.random.default_rng(16), "float64")
    U = layer.params["U"]
    for k in range(layer.n_gates):
        block = U[:, 5 * k:5 * (k + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-12)
    expected_b = np.zeros(5 * layer.n_gates)
    if cell == "lstm":
        expected_b[5:10] = 1.0  # forget gate
    np.testing.assert_array_equal(layer.params["b"], expected_b)
    lstm = LSTM(2, forget_bias=0.5, recurrent_init="glorot")
    lstm.build((T, F), np.random.default_rng(0), "float64")
    np.testing.assert_array_equal(lstm.params["b"], [0, 0, 0.5, 0.5, 0, 0, 0, 0])


# -- training ----------------------------------------------------------------------------------------------------
def first_element_task(n, rng):
    """Sequences of 8 uniform numbers; the target is the first one, which the last steps carry no trace of."""
    X = rng.uniform(-1, 1, (n, 8, 1))
    return X, X[:, 0, :]


def r2(prediction, target):
    return 1.0 - float(np.sum((prediction - target) ** 2) / np.sum((target - target.mean()) ** 2))


def test_tiny_lstm_remembers_the_first_element_a_memoryless_model_cannot():
    rng = np.random.default_rng(17)
    X, y = first_element_task(512, rng)
    X_test, y_test = first_element_task(512, rng)
    network = rnn("lstm", 8, 1)
    fit(network, "mse", Adam(0.02), X, y, TrainingSettings(epochs=60, batch_size=64), rng=0)
    # the best model without memory sees x_7 only, independent of x_0: its R^2 is ~0 (least squares on x_7)
    last = np.c_[X[:, -1, 0], np.ones(len(X))]
    coef = np.linalg.lstsq(last, y[:, 0], rcond=None)[0]
    memoryless = r2(np.c_[X_test[:, -1, 0], np.ones(len(X_test))] @ coef, y_test[:, 0])
    learned = r2(network.predict(X_test)[:, 0], y_test[:, 0])
    assert memoryless < 0.05 and learned > 0.9, (memoryless, learned)


def test_gradient_clipping_bounds_the_update_of_an_exploding_rnn():
    """A SimpleRNN whose recurrent weights are 3 x orthogonal over 30 steps has a huge gradient; clip_norm scales
    it to the given norm without changing its direction, so the SGD step is -lr * clip * g / ||g||."""
    network = rnn("rnn", 6, 1).build((30, 2), 0, "float64")
    network.layers[0].params["U"] *= 3.0
    rng = np.random.default_rng(18)
    X, target = 0.1 * rng.standard_normal((8, 30, 2)), 10.0 * rng.standard_normal((8, 1))
    loss = MeanSquaredError()
    loss.forward(network.forward(X, training=True), target)
    network.backward(loss.backward())
    parameters = network.parameters()
    grads = {p.name: p.grad.copy() for p in parameters}
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    before = network.get_weights()
    assert norm > 100
    SGD(0.1, clip_norm=1.0).step(parameters)
    after = network.get_weights()
    for name, g in grads.items():  # float64: only rounding differences
        np.testing.assert_allclose(after[name] - before[name], -0.1 * g / norm, rtol=1e-9, atol=1e-15)


# -- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [lambda: LSTM(3), lambda: GRU(3), lambda: SimpleRNN(3), lambda: TimeDense(3)])
def test_wrong_input_rank_is_refused(factory):
    for shape in [(5,), (1, 5, 2)]:
        with pytest.raises(ValueError, match=r"\(batch, T, F\)"):
            factory().build(shape, np.random.default_rng(0), "float64")
    layer = factory()
    layer.build((T, F), np.random.default_rng(0), "float64")
    with pytest.raises(ValueError, match="expects X of shape"):
        layer.forward(np.zeros((BATCH, T + 1, F)))
    with pytest.raises(ValueError, match="per-sample input shape"):
        rnn().build((F,), 0)


@pytest.mark.parametrize("kwargs, name", [
    ({"units": 0}, "units"), ({"units": 2.5}, "units"), ({"units": 3, "truncate": 0}, "truncate"),
    ({"units": 3, "truncate": True}, "truncate"), ({"units": 3, "truncate": 1.5}, "truncate"),
    ({"units": 3, "return_sequences": 1}, "return_sequences"), ({"units": 3, "init": "xavier"}, "init"),
    ({"units": 3, "recurrent_init": "identity"}, "recurrent_init"),
])
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_bad_layer_parameters_are_named(cls, kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of {cls.__name__}"):
        cls(**kwargs)


def test_bad_cell_specific_parameters_are_named():
    with pytest.raises(InvalidParameterError, match="'activation' parameter of SimpleRNN"):
        SimpleRNN(3, activation="softmax")
    for value in (float("nan"), float("inf"), "1"):
        with pytest.raises(InvalidParameterError, match="'forget_bias' parameter of LSTM"):
            LSTM(3, forget_bias=value)
    with pytest.raises(InvalidParameterError, match="'units' parameter of TimeDense"):
        TimeDense(0)


@pytest.mark.parametrize("kwargs, name", [
    ({"cell": "transformer"}, "cell"), ({"units": ()}, "units"), ({"units": (4, 0)}, "units"),
    ({"n_outputs": 0}, "n_outputs"), ({"head": "first"}, "head"), ({"truncate": 0}, "truncate"),
    ({"truncate": "2"}, "truncate"), ({"hidden_layer_sizes": (-1,)}, "hidden_layer_sizes"),
    ({"activation": "swish"}, None), ({"init": "zeros"}, "init"),
])
def test_bad_rnn_arguments_are_named(kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of rnn" if name else "swish"):
        rnn(**kwargs)
