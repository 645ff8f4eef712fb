"""Kriegeskorte et al. 2008: 92 object images with human-IT, monkey-IT, behaviour and model RDMs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError
from neuroalign.data.rdms import RDMCollection
from neuroalign.data.stimuli import StimulusSet
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import verify_files

__all__ = ["INFO", "it_rdms", "load"]

_SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"
_FILES = {
    "92_behavRDMs.mat": "7a8e118c144c3840adeeeef6ea0706a0be2b3e80df719af15fbb56fc62562f5f",
    "92_brainRDMs.mat": "1743f90a15e895798a94318649e80e1123a7e5943a1703fa1dd7c31ea5780b7c",
    "92_modelRDMs.mat": "e1d2b58bb2f9508bc13da4c81b94d1ab07823b25ed30b9563bd9d6d730c2a00a",
    _SUPPLEMENT: "06f21214399a5d43dc264eed19a7f4b8daf11c8622a59eec3e106064ce5e3504",
}

INFO = DatasetInfo(
    name="kriegeskorte2008_92",
    title="Kriegeskorte et al. 2008: 92 object images, human/monkey IT and behaviour RDMs",
    description=(
        "RDM-level data only (no per-voxel or per-neuron responses): the 92 object images "
        "(175x175 RGB) with category labels, human-IT fMRI RDMs for 4 subjects x 2 sessions, the "
        "figure-1 group RDMs of monkey IT (674 neurons, Kiani 2007) and human IT (316 voxels), "
        "16 similarity-judgement RDMs and 8 model RDMs: 34 RDMs in one RDMCollection."
    ),
    citation=(
        "Kriegeskorte, N., Mur, M., Ruff, D. A., Kiani, R., Bodurka, J., Esteky, H., Tanaka, K., & "
        "Bandettini, P. A. (2008). Matching categorical object representations in inferior "
        "temporal cortex of man and monkey. Neuron, 60(6), 1126-1141. "
        "https://doi.org/10.1016/j.neuron.2008.10.043; Kiani, R., Esteky, H., Mirpour, K., & "
        "Tanaka, K. (2007). Object category structure in response patterns of neuronal population "
        "in monkey inferior temporal cortex. Journal of Neurophysiology, 97(6), 4296-4309. "
        "https://doi.org/10.1152/jn.00024.2007"
    ),
    license="MIT (as distributed with rsatoolbox); cite both papers",
    folder="kriegeskorte2008_92images",
    files=_FILES,
    has_images=True,
    subjects="human IT: 4 subjects (BE, KO, SN, TI) x 2 sessions; monkey IT: group RDM; "
    "behaviour: 16 subjects",
    areas=("IT",),
    how_to_obtain=(
        "Get demos/92imageData/*.mat from github.com/rsagroup/rsatoolbox (commit f1f83cad) into "
        "<data_dir>/kriegeskorte2008_92images/."
    ),
)


def _stimuli(sup: dict) -> StimulusSet:
    entries = sup["stimuli_92objs"].ravel()
    images = np.stack([e["image"] for e in entries])  # (92, 175, 175, 3) uint8
    meta = pd.DataFrame(
        {
            "index": np.arange(1, len(entries) + 1),
            "category": [str(e["category"].ravel()[0]) for e in entries],
            **{k: [bool(e[k].ravel()[0]) for e in entries] for k in ("human", "face", "animal")},
            "natural": [bool(e["natural"].ravel()[0]) for e in entries],
        }
    )
    labels = [str(lab.ravel()[0]) for lab in sup["categoryLabels"].ravel()]
    for j, lab in enumerate(labels):
        meta[lab] = sup["categoryVectors"][:, j].astype(bool)
    return StimulusSet.from_arrays(images, ids="content", metadata=meta, name=INFO.name)


def _row(name, kind, subject=None, session=None, source=""):
    return {"name": name, "kind": kind, "subject": subject, "session": session, "source": source}


def _rdms(mats: dict[str, dict], ids) -> RDMCollection:
    mats_list, rows = [], []
    for e in mats["92_brainRDMs.mat"]["RDMs"].ravel():  # (1, 4 subjects, 2 sessions)
        name = str(e["name"].ravel()[0])
        m = re.fullmatch(r"\s*hIT\s*\|\s*(\w+)\s*\|\s*Session:\s*(\d+)\s*", name)
        if m is None:
            raise DataError(f"92_brainRDMs.mat: unexpected RDM name {name!r}.")
        rows.append(_row(name, "hIT", m.group(1), int(m.group(2)), "92_brainRDMs.mat"))
        mats_list.append(e["RDM"])
    fig1 = mats[_SUPPLEMENT]["RDMs_mIT_hIT_fig1"].ravel()
    names = [str(e["name"].ravel()[0]) for e in fig1]
    condensed = np.stack([e["RDM"].ravel() for e in fig1])
    mats_list.extend(
        RDMCollection.from_condensed(condensed, pd.DataFrame({"name": names}), ids).rdms
    )
    for name in names:
        kind = "mIT" if name.startswith("mIT") else "hIT_group"
        rows.append(_row(name, kind, "group", None, _SUPPLEMENT))
    for e in mats["92_behavRDMs.mat"]["rdms_behav_92"].ravel():
        name = str(e["name"].ravel()[0])
        rows.append(_row(name, "behaviour", name.split("|")[-1].strip(), None, "92_behavRDMs.mat"))
        mats_list.append(e["RDM"])
    for e in mats["92_modelRDMs.mat"]["Models"].ravel():
        rows.append(_row(str(e["name"].ravel()[0]), "model", None, None, "92_modelRDMs.mat"))
        mats_list.append(e["RDM"])
    desc = pd.DataFrame(rows)
    desc["session"] = desc["session"].astype("Int64")
    return RDMCollection(np.stack([np.asarray(m, dtype=np.float64) for m in mats_list]), desc, ids)


def load(root: Path) -> Dataset:
    """Load from ``root`` = ``<data_dir>/kriegeskorte2008_92images``.

    Returns a :class:`Dataset` with no recordings, ``stimuli["shared"]`` (92 images, content ids,
    category columns) and ``rdms`` (34 RDMs ``(92, 92)``; descriptors name/kind/subject/session/
    source, kind one of hIT, mIT, hIT_group, behaviour, model).
    """
    from scipy.io import loadmat

    digests = verify_files(INFO, root)
    mats = {name: loadmat(root / name) for name in _FILES}
    stimuli = _stimuli(mats[_SUPPLEMENT])
    return Dataset(INFO, {}, {"shared": stimuli}, _rdms(mats, stimuli.ids), checksums=digests)


def it_rdms(ds: Dataset) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The inferior-temporal RDMs of a loaded dataset: human IT per subject (sessions averaged)
    ``(4, 92, 92)``, the subjects' names, and the monkey-IT RDM ``(92, 92)``."""
    hit = ds.rdms.select(kind="hIT")
    subjects = list(dict.fromkeys(hit.descriptors["subject"]))
    human = np.stack([hit.select(subject=s).rdms.mean(axis=0) for s in subjects])
    return human, subjects, ds.rdms.select(kind="mIT").rdms[0]
