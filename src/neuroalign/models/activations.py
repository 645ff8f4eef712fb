"""`Activations`: layer name → float32 array ``(n_stimuli, n_features)``, with stimulus ids and provenance."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from neuroalign._core.errors import ConfigError, DataError

__all__ = ["Activations"]


class Activations(Mapping):
    """Activations of one model on one stimulus set, layer by layer.

    ``acts[layer]`` is a float32 array ``(n_stimuli, n_features)`` (a read-only memory map when it
    came from the cache); rows follow ``stimulus_ids``. ``provenance`` records the model name,
    fingerprints, preprocessing, reductions, versions and the cache key of every layer.
    """

    def __init__(
        self, arrays: Mapping[str, np.ndarray], stimulus_ids, provenance: dict | None = None
    ):
        self._arrays = dict(arrays)
        self.stimulus_ids = np.asarray([str(s) for s in stimulus_ids], dtype=object)
        for name, a in self._arrays.items():
            if a.ndim != 2 or a.shape[0] != len(self.stimulus_ids):
                raise DataError(
                    f"layer {name!r} has shape {a.shape}; expected ({len(self.stimulus_ids)}, n_features)."
                )
        self.provenance = dict(provenance or {})

    @property
    def layers(self) -> list[str]:
        return list(self._arrays)

    @property
    def cache_keys(self) -> dict[str, str | None]:
        """Cache key of each layer (None when extracted with ``cache=False``)."""
        return {k: v.get("cache_key") for k, v in self.provenance.get("layers", {}).items()}

    def __getitem__(self, layer: str) -> np.ndarray:
        try:
            return self._arrays[layer]
        except KeyError:
            raise ConfigError(
                f"no layer {layer!r} in these activations; layers: {self.layers}."
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape[1]}" for k, v in self._arrays.items())
        name = self.provenance.get("model_name", "model")
        return f"Activations({name!r}, {len(self.stimulus_ids)} stimuli, features per layer {{{shapes}}})"

    def select(self, stimulus_ids) -> Activations:
        """Rows for the given stimulus ids, in that order (arrays loaded into memory)."""
        ids = [str(s) for s in stimulus_ids]
        index = {s: i for i, s in enumerate(self.stimulus_ids)}
        missing = [s for s in ids if s not in index]
        if missing:
            raise DataError(
                f"{len(missing)} stimulus id(s) not in the activations, e.g. {missing[:3]}."
            )
        pos = np.fromiter((index[s] for s in ids), dtype=np.int64, count=len(ids))
        return Activations(
            {k: np.asarray(v[pos]) for k, v in self._arrays.items()}, ids, self.provenance
        )
