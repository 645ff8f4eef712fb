"""Dataset registry and loaders for real recordings: checksummed, offline, from a local folder."""

from neuroalign.data.rdms import RDMCollection
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import sha256_file, verify_files
from neuroalign.datasets.registry import (
    DATASETS,
    ENV_VAR,
    info,
    load,
    names,
    register,
    resolve_data_dir,
    status,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetInfo",
    "ENV_VAR",
    "RDMCollection",
    "info",
    "load",
    "names",
    "register",
    "resolve_data_dir",
    "sha256_file",
    "status",
    "verify_files",
]
