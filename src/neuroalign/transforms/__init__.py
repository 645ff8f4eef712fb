"""Transform classes: one fit/predict API for every mapping between populations, and their order."""

from neuroalign.transforms.base import Transform, contains, get, minimal, registry, strictness_order

__all__ = ["Transform", "contains", "get", "minimal", "registry", "strictness_order"]
