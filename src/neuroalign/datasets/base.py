"""`DatasetInfo` (what a dataset is and where to get it) and `Dataset` (what a loader returns)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neuroalign._core.errors import DataError
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.rdms import RDMCollection
from neuroalign.data.stimuli import StimulusSet

__all__ = ["DatasetInfo", "Dataset"]


@dataclass(frozen=True)
class DatasetInfo:
    """Facts about a registered dataset.

    ``files`` maps each path, relative to ``<data_dir>/<folder>``, to its SHA-256 hex digest;
    every file is verified against it before it is parsed.
    """

    name: str
    title: str
    description: str
    citation: str
    license: str
    folder: str
    files: dict[str, str]
    has_images: bool
    subjects: str
    areas: tuple[str, ...]
    how_to_obtain: str

    def to_dict(self) -> dict:
        """JSON-ready dict of every field."""
        d = asdict(self)
        d["areas"] = list(self.areas)
        return d

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.title}\n{self.description}\nSubjects: {self.subjects}\n"
            f"Areas: {', '.join(self.areas) or '-'}\nImages: {'yes' if self.has_images else 'no'}\n"
            f"Folder: <data_dir>/{self.folder} ({len(self.files)} files)\n"
            f"Citation: {self.citation}\nLicense: {self.license}\nObtain: {self.how_to_obtain}"
        )


@dataclass
class Dataset:
    """A loaded dataset.

    ``recordings`` maps a recording/session key to its :class:`NeuralData`; ``stimuli`` maps the
    same keys (or one shared key) to a :class:`StimulusSet`, empty when there is none;
    ``rdms`` holds RDM-level data when the dataset has any; ``files`` names the dataset's files
    (relative name → path) for datasets read by a higher layer (the V1 twin's weights), with the
    ``checksums`` verified when they were loaded.
    """

    info: DatasetInfo
    recordings: dict[str, NeuralData] = field(default_factory=dict)
    stimuli: dict[str, StimulusSet] = field(default_factory=dict)
    rdms: RDMCollection | None = None
    files: dict[str, Path] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.info.name!r}, recordings={list(self.recordings)}, "
            f"stimuli={list(self.stimuli)}, rdms={self.rdms!r})"
        )

    def population(self, keys: Iterable[str] | None = None) -> NeuralData:
        """Chosen recordings (default all) joined along units, on the stimulus ids they all share.

        Returns :class:`NeuralData` ``(n_shared_stimuli, Σ n_units, max n_repeats)``; raises
        :class:`DataError` when keys are unknown or the recordings share no stimulus.
        """
        if not self.recordings:
            raise DataError(f"{self.info.name} has no neural recordings (RDM-level data only).")
        keys = list(self.recordings) if keys is None else [str(k) for k in keys]
        unknown = [k for k in keys if k not in self.recordings]
        if unknown:
            raise DataError(f"unknown recording(s) {unknown}; available: {list(self.recordings)}.")
        return NeuralData.concat([self.recordings[k] for k in keys], align=True)
