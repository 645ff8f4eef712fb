"""A small multilayer perceptron (PyTorch, CPU), the most flexible transform class."""

from __future__ import annotations

import copy
import numbers
import threading
from contextlib import contextmanager

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed, check_xy
from neuroalign.transforms._common import check_source, standardize
from neuroalign.transforms.base import Transform

__all__ = ["MLP"]

_INIT_LOCK = threading.Lock()

_ACTIVATIONS = ("relu", "softplus", "gelu", "tanh")


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is installed in the test environment
        raise ConfigError(
            "the 'mlp' transform needs PyTorch; install it with pip install 'neuroalign[torch]'."
        ) from err
    return torch


@contextmanager
def _threads(torch, n: int | None):
    """Run with ``n`` torch intra-op threads (``None``: as set), restoring the setting after."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class MLP(Transform):
    """``ŷ = x·V + f(x)`` with ``f`` a ReLU (or other) MLP of ``n_layers`` hidden layers of ``width``.

    Inputs and targets are standardised on the training stimuli; training minimises the mean
    squared error with Adam (``lr``, ``weight_decay``) in minibatches of ``batch_size`` (``None``:
    full batch) and stops early when the loss on a held-out ``validation_fraction`` of the stimuli
    has not improved for ``patience`` epochs, keeping the best weights. ``linear_skip`` adds the
    linear term ``x·V`` so the class contains ridge exactly; a hidden layer contains zippering.
    ``seed`` (int or Generator) fixes the validation split, initialisation and batch order (same
    seed = same numbers on one machine; the global torch RNG is left untouched). ``dtype``:
    ``"float32"`` or ``"float64"``; ``None`` follows the input (float64 unless X and Y are float32).
    ``n_threads``: torch intra-op threads while fitting/predicting (restored afterwards); 1 by
    default because small networks only lose time to thread synchronisation; ``None`` keeps
    torch's setting.

    Fitted: ``model_`` (a torch ``ModuleDict`` with ``"body"`` and ``"skip"``, on standardised data), ``n_epochs_``, ``best_epoch_``,
    ``train_loss_``, ``val_loss_`` (per epoch, standardised MSE).
    """

    name = "mlp"
    contains = ("ridge", "zippering")
    test_params = {"width": 4, "max_epochs": 3}

    def __init__(
        self,
        width: int = 128,
        n_layers: int = 1,
        activation: str = "relu",
        linear_skip: bool = True,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int | None = None,
        max_epochs: int = 1000,
        validation_fraction: float = 0.1,
        patience: int = 20,
        seed=0,
        dtype: str | None = None,
        n_threads: int | None = 1,
    ):
        self.width = width
        self.n_layers = n_layers
        self.activation = activation
        self.linear_skip = linear_skip
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.seed = seed
        self.dtype = dtype
        self.n_threads = n_threads

    def _check_params(self):
        for key in ("width", "n_layers", "max_epochs", "patience"):
            v = getattr(self, key)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{key} must be a positive integer, got {v!r}.")
        if self.batch_size is not None and (
            not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1
        ):
            raise ConfigError(
                f"batch_size must be a positive integer or None, got {self.batch_size!r}."
            )
        if self.activation not in _ACTIVATIONS:
            raise ConfigError(f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}.")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ConfigError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}."
            )
        if self.n_threads is not None and (
            not isinstance(self.n_threads, numbers.Integral) or self.n_threads < 1
        ):
            raise ConfigError(
                f"n_threads must be a positive integer or None, got {self.n_threads!r}."
            )
        if self.dtype not in (None, "float32", "float64"):
            raise ConfigError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}.")

    def _build(self, torch, n_in: int, n_out: int):
        nn = torch.nn
        act = {"relu": nn.ReLU, "softplus": nn.Softplus, "gelu": nn.GELU, "tanh": nn.Tanh}
        layers, width = [], n_in
        for _ in range(self.n_layers):
            layers += [nn.Linear(width, self.width), act[self.activation]()]
            width = self.width
        layers.append(nn.Linear(width, n_out))
        parts = {"body": nn.Sequential(*layers)}
        if self.linear_skip:
            parts["skip"] = nn.Linear(n_in, n_out, bias=False)
        return nn.ModuleDict(parts)

    @staticmethod
    def _forward(model, x):
        out = model["body"](x)
        return out + model["skip"](x) if "skip" in model else out

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        self._check_params()
        torch = _torch()
        with _threads(torch, self.n_threads):
            return self._fit(torch, X, Y)

    def _fit(self, torch, X, Y):
        X, Y = check_xy(X, Y, dtype=self.dtype)
        n = X.shape[0]
        n_val = int(round(self.validation_fraction * n))
        if self.validation_fraction > 0:
            n_val = max(n_val, 1)
        if n - n_val < 1:
            raise DataError(f"MLP needs at least 2 stimuli to train and validate, got {n}.")
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        Xs, self.x_mean_, self.x_sd_ = standardize(X)
        Ys, self.y_mean_, self.y_sd_ = standardize(Y)
        rng = check_seed(self.seed)
        order = rng.permutation(n)
        torch_seed = int(rng.integers(2**62))
        tdtype = torch.float32 if X.dtype == np.float32 else torch.float64
        xt = torch.as_tensor(Xs, dtype=tdtype)
        yt = torch.as_tensor(Ys, dtype=tdtype)
        val, train = order[:n_val], order[n_val:]
        with _INIT_LOCK, torch.random.fork_rng(devices=[]):
            # torch draws initial weights from its global generator: folds fitted side by side in
            # threads would otherwise seed it over each other and take each other's weights
            torch.manual_seed(torch_seed)
            model = self._build(torch, X.shape[1], Y.shape[1]).to(tdtype)
        gen = torch.Generator().manual_seed(torch_seed)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        x_tr, y_tr = xt[train], yt[train]
        x_va, y_va = xt[val], yt[val]
        batch = len(train) if self.batch_size is None else min(self.batch_size, len(train))
        best, best_state, best_epoch, stale = np.inf, None, 0, 0
        self.train_loss_, self.val_loss_ = [], []
        for epoch in range(self.max_epochs):
            model.train()
            perm = torch.randperm(len(train), generator=gen)
            total = 0.0
            for start in range(0, len(train), batch):
                idx = perm[start : start + batch]
                opt.zero_grad()
                loss = torch.mean((self._forward(model, x_tr[idx]) - y_tr[idx]) ** 2)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            self.train_loss_.append(total / len(train))
            if n_val == 0:
                continue
            model.eval()
            with torch.no_grad():
                v = float(torch.mean((self._forward(model, x_va) - y_va) ** 2))
            self.val_loss_.append(v)
            if v < best:
                best, best_epoch, stale = v, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            best_epoch = len(self.train_loss_) - 1
        model.eval()
        self.model_, self.n_epochs_, self.best_epoch_ = model, len(self.train_loss_), best_epoch
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        torch = _torch()
        param = next(self.model_.parameters())
        xt = torch.as_tensor((X - self.x_mean_) / self.x_sd_, dtype=param.dtype)
        with torch.no_grad(), _threads(torch, self.n_threads):
            out = self._forward(self.model_, xt).numpy()
        return (out * self.y_sd_ + self.y_mean_).astype(X.dtype, copy=False)
