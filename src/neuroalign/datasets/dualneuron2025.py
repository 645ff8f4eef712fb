"""The trained macaque V1 digital twin of Franke, Karantzas et al. (2025): its files.

``load(root)`` checks the five member checkpoints and ``correlations.npy`` against their SHA-256 and
returns a :class:`~neuroalign.datasets.base.Dataset` whose ``files`` name them;
:func:`neuroalign.twin.load_v1_twin` builds the networks from them.
"""

from __future__ import annotations

from pathlib import Path

from neuroalign._core.errors import DataError
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import verify_files

__all__ = ["CITATION", "INFO", "MEMBERS", "load"]

CITATION = (
    "Franke, K., Karantzas, N., et al. (2025). Dual-feature selectivity enables bidirectional "
    "coding in visual cortical neurons. bioRxiv 10.1101/2025.07.16.665209. Weights: "
    "github.com/enigma-brain/dualneuron (commit e285b46, MIT)."
)
MEMBERS = tuple(f"v1_convnext_{k}.pth.tar" for k in range(1, 6))
_FILES = {
    "correlations.npy": "638e481cd1e96c83e458649bd902b0f719b1b81bfa843f2a3ae9aa9bc2aa21fc",
    "v1_convnext_1.pth.tar": "6e0b3da57be1835849955b74f915a8f420dc33596ffed3ef5be60deb1138abfc",
    "v1_convnext_2.pth.tar": "7792ea86f15e6b4a41212c74fb5455276a2d850de09ae6d534ab06ad5d0e2055",
    "v1_convnext_3.pth.tar": "81aed4d8fbbd1795dd88d341880b342bb2bcc32f8758ed4d4d15a112602b1c92",
    "v1_convnext_4.pth.tar": "a09545247be0a128a8e6d05536f507984dd8d460e0a4253d082f661d4ec65ba3",
    "v1_convnext_5.pth.tar": "5bb48d5168716d1b24476a14505ee20a4c2d780a30a02d4bff3b421c4559d06d",
}
INFO = DatasetInfo(
    name="dualneuron_v1_twin",
    title="Franke, Karantzas et al. 2025: trained macaque V1 digital twin (5-member ensemble)",
    description=(
        "ConvNeXt-V2 core + Gaussian readout fitted to 458 macaque V1 neurons; 93×93 grey input; "
        "correlations.npy holds each neuron's held-out correlation."
    ),
    citation=CITATION,
    license="MIT (repository README and pyproject)",
    folder="dualneuron_v1_twin",
    files=_FILES,
    has_images=False,
    subjects="macaque",
    areas=("V1",),
    how_to_obtain=(
        "Get v1_convnext_{1..5}.pth.tar and correlations.npy from github.com/enigma-brain/dualneuron "
        "(commit e285b46, folder dualneuron/twins/V1GrayTaskDriven/) into "
        "<data_dir>/dualneuron_v1_twin/."
    ),
)


def load(root: str | Path, *, verify: bool = True) -> Dataset:
    """The twin's files under ``root`` (``<data_dir>/dualneuron_v1_twin``), each verified against
    its SHA-256 (``verify=False`` checks only that they are present). Raises :class:`DataError`
    naming the folder, the missing files and where to get them."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"V1 twin not found: expected folder {root} holding {', '.join(INFO.files)}. "
            f"{INFO.how_to_obtain}"
        )
    if verify:
        digests = verify_files(INFO, root)
    else:
        missing = [f for f in INFO.files if not (root / f).is_file()]
        if missing:
            raise DataError(f"twin folder {root} lacks {', '.join(missing)}. {INFO.how_to_obtain}")
        digests = {}
    return Dataset(INFO, files={f: root / f for f in INFO.files}, checksums=digests)
