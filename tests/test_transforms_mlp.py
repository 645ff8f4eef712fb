"""MLP: learns a nonlinear map, contains the linear one, deterministic with a seed."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from neuroalign.errors import ConfigError
from neuroalign.transforms.mlp import MLP

FAST = dict(width=32, max_epochs=150, lr=1e-2, patience=10)


def _r2(pred, true):
    return np.mean(1 - ((pred - true) ** 2).sum(0) / ((true - true.mean(0)) ** 2).sum(0))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 6))
    Y = np.abs(X @ rng.normal(size=(6, 4))) + 0.05 * rng.normal(size=(240, 4))
    return X, Y


def test_beats_linear_on_nonlinear_data(data):
    X, Y = data
    m = MLP(**FAST).fit(X[:180], Y[:180])
    lin = LinearRegression().fit(X[:180], Y[:180]).predict(X[180:])
    assert _r2(m.predict(X[180:]), Y[180:]) > _r2(lin, Y[180:]) + 0.2
    assert m.best_epoch_ < m.n_epochs_ and len(m.val_loss_) == m.n_epochs_


def test_linear_skip_fits_linear_data(data):
    X, _ = data
    Y = X @ np.random.default_rng(1).normal(size=(6, 3)) + 2.0
    m = MLP(**FAST).fit(X[:180], Y[:180])
    assert _r2(m.predict(X[180:]), Y[180:]) > 0.9


def test_seed_determinism_and_global_rng_untouched(data):
    X, Y = data
    state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    kw = dict(width=8, max_epochs=20)
    a = MLP(**kw, seed=3).fit(X, Y).predict(X)
    assert torch.equal(state, torch.random.get_rng_state())
    assert torch.get_num_threads() == threads
    b = MLP(**kw, seed=3).fit(X, Y).predict(X)
    c = MLP(**kw, seed=4).fit(X, Y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dtype_minibatches_and_pickle(data):
    X, Y = data
    m = MLP(width=8, max_epochs=5, dtype="float32", batch_size=32).fit(X, Y)
    assert next(m.model_.parameters()).dtype == torch.float32
    m32 = MLP(width=8, max_epochs=5).fit(X.astype(np.float32), Y.astype(np.float32))
    assert m32.predict(X[:3].astype(np.float32)).dtype == np.float32
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(m)).predict(X), m.predict(X))
    assert MLP(width=8, max_epochs=5, validation_fraction=0.0).fit(X, Y).n_epochs_ == 5


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"width": 0}, "width"),
        ({"activation": "sigmoid"}, "activation"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"dtype": "float16"}, "dtype"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_threads": 0}, "n_threads"),
    ],
)
def test_bad_configuration(kw, match, data):
    X, Y = data
    with pytest.raises(ConfigError, match=match):
        MLP(**kw).fit(X, Y)
