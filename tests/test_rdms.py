"""RDMCollection: validation, condensed order (scipy squareform), selection."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform

from neuroalign.data.rdms import RDMCollection
from neuroalign.errors import DataError


def _collection(n=3, k=6, seed=0):
    rng = np.random.default_rng(seed)
    rdms = np.stack([squareform(pdist(rng.normal(size=(k, 4)))) for _ in range(n)])
    desc = pd.DataFrame(
        {"name": [f"r{i}" for i in range(n)], "kind": ["a", "b", "a"][:n], "session": [1, 2, 1][:n]}
    )
    return RDMCollection(rdms, desc, [f"s{j}" for j in range(k)]), rdms


def test_condensed_matches_scipy_squareform():
    coll, rdms = _collection()
    expected = np.stack([squareform(r, checks=True) for r in rdms])
    np.testing.assert_array_equal(coll.condensed(), expected)
    assert coll.rdms.dtype == np.float64 and len(coll) == 3 and coll.n_stimuli == 6


def test_from_condensed_round_trip():
    coll, rdms = _collection()
    back = RDMCollection.from_condensed(coll.condensed(), coll.descriptors, coll.stimulus_ids)
    np.testing.assert_array_equal(back.rdms, rdms)


def test_select_scalar_and_list():
    coll, rdms = _collection()
    a = coll.select(kind="a")
    assert a.names == ["r0", "r2"]
    np.testing.assert_array_equal(a.rdms, rdms[[0, 2]])
    assert coll.select(kind="a", session=[2, 1]).names == ["r0", "r2"]
    assert coll.select(name=("r1",)).names == ["r1"]
    np.testing.assert_array_equal(coll.rdm("r1"), rdms[1])


@pytest.mark.parametrize(
    "filters, match", [({"colour": "x"}, "unknown descriptor"), ({"kind": "zzz"}, "no RDM matches")]
)
def test_select_errors(filters, match):
    coll, _ = _collection()
    with pytest.raises(DataError, match=match):
        coll.select(**filters)
    with pytest.raises(DataError, match="no RDM named"):
        coll.rdm("nope")


def _bad(kind):
    _, rdms = _collection(n=1)
    r = rdms.copy()
    if kind == "asym":
        r[0, 0, 1] += 0.5
    elif kind == "diag":
        r[0, 2, 2] = 0.1
    elif kind == "nan":
        r[0, 0, 1] = r[0, 1, 0] = np.nan
    return r


@pytest.mark.parametrize(
    "kind, match", [("asym", "not symmetric"), ("diag", "non-zero diagonal"), ("nan", "NaN")]
)
def test_validation_names_the_rdm(kind, match):
    with pytest.raises(DataError, match=f"'r0'.*{match}|{match}"):
        RDMCollection(_bad(kind), pd.DataFrame({"name": ["r0"]}), list("abcdef"))


def test_validation_shapes_and_labels():
    _, rdms = _collection()
    ids = list("abcdef")
    with pytest.raises(DataError, match="shape"):
        RDMCollection(rdms[:, :, :5], pd.DataFrame({"name": list("xyz")}), ids)
    with pytest.raises(DataError, match="descriptor rows"):
        RDMCollection(rdms, pd.DataFrame({"name": ["x"]}), ids)
    with pytest.raises(DataError, match="duplicate RDM names"):
        RDMCollection(rdms, pd.DataFrame({"name": ["x", "x", "y"]}), ids)
    with pytest.raises(DataError, match="'name' column"):
        RDMCollection(rdms, pd.DataFrame({"label": list("xyz")}), ids)
    with pytest.raises(DataError, match="stimulus ids"):
        RDMCollection(rdms, pd.DataFrame({"name": list("xyz")}), ids[:5])
    with pytest.raises(DataError, match="condensed"):
        RDMCollection.from_condensed(np.zeros((1, 14)), pd.DataFrame({"name": ["x"]}), ids)
