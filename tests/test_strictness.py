"""The strictness order derived from the transform classes' declarations is a partial order."""

import itertools

import pytest

import neuroalign.transforms.identity  # noqa: F401  (register the built-in classes)
import neuroalign.transforms.mlp  # noqa: F401
import neuroalign.transforms.one_to_one  # noqa: F401
import neuroalign.transforms.pls  # noqa: F401
import neuroalign.transforms.procrustes  # noqa: F401
import neuroalign.transforms.soft_matching  # noqa: F401
import neuroalign.transforms.zippering  # noqa: F401
from neuroalign.errors import ConfigError
from neuroalign.transforms.base import contains, minimal, registry, strictness_order

MINE = ["identity", "one_to_one", "soft_matching", "procrustes", "pls", "zippering", "mlp"]


def _order():
    return strictness_order()


def test_every_class_is_registered_and_declares_known_classes():
    reg = registry()
    assert set(MINE) <= set(reg)
    for name, cls in reg.items():
        assert cls.name == name
        assert name not in cls.contains


def test_derived_order_is_a_strict_partial_order():
    order = _order()
    names = list(order)
    for a in names:
        assert a not in order[a]  # irreflexive
    for a, b in itertools.permutations(names, 2):
        assert not (b in order[a] and a in order[b])  # antisymmetric
    for a, b, c in itertools.permutations(names, 3):
        if b in order[a] and c in order[b]:
            assert c in order[a]  # transitive


@pytest.mark.parametrize(
    "bigger, smaller",
    [
        ("one_to_one", "identity"),
        ("soft_matching", "one_to_one"),
        ("soft_matching", "identity"),
        ("procrustes", "one_to_one"),
        ("zippering", "one_to_one"),
        ("mlp", "zippering"),
        ("mlp", "identity"),
    ],
)
def test_expected_containments_among_these_classes(bigger, smaller):
    assert contains(bigger, smaller)
    assert not contains(smaller, bigger)


def test_incomparable_classes():
    for a, b in [
        ("soft_matching", "procrustes"),
        ("zippering", "procrustes"),
        ("pls", "one_to_one"),
    ]:
        assert not contains(a, b) and not contains(b, a)


def test_containments_through_ridge():
    pytest.importorskip("neuroalign.transforms.ridge")
    chain = ["identity", "one_to_one", "procrustes", "ridge", "mlp"]
    for i, j in itertools.combinations(range(len(chain)), 2):
        assert contains(chain[j], chain[i])
    assert contains("ridge", "pls") and contains("mlp", "pls")
    assert minimal(["mlp", "ridge", "pls", "soft_matching"]) == ["pls", "soft_matching"]


def test_minimal_picks_the_strictest():
    assert minimal(["mlp", "zippering", "one_to_one"]) == ["one_to_one"]
    assert minimal(["soft_matching", "procrustes", "zippering"]) == [
        "soft_matching",
        "procrustes",
        "zippering",
    ]
    assert minimal(["identity", "identity", "mlp"]) == ["identity"]


def test_cyclic_declarations_raise():
    with pytest.raises(ConfigError, match="cycle"):
        strictness_order(declarations={"a": ["b"], "b": ["c"], "c": ["a"]})
    with pytest.raises(ConfigError, match="cycle"):
        strictness_order(declarations={"a": ["a"]})
    ok = strictness_order(declarations={"a": ["b"], "b": ["c"], "c": []})
    assert ok == {"a": frozenset({"b", "c"}), "b": frozenset({"c"}), "c": frozenset()}
