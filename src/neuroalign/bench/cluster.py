"""Dask clusters from a small YAML file: the same sweep on a laptop or on a SLURM cluster.

The file (an example: ``docs/cluster.yaml``) names a kind and holds one section per kind::

    kind: slurm        # or: local
    jobs: 4            # SLURM batch jobs to start (each runs `processes` workers)
    slurm:             # keyword arguments of dask_jobqueue.SLURMCluster
      queue: normal
      cores: 8
      processes: 8
      memory: 32GB
      walltime: "04:00:00"
    local:             # keyword arguments of distributed.LocalCluster
      n_workers: 2
      threads_per_worker: 1

``neuroalign sweep ... --cluster-config FILE`` (or ``make_cluster(FILE)``) starts that cluster;
``kind=`` overrides the file's kind, which is how CI runs the very same file on a LocalCluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroalign._core.errors import ConfigError

__all__ = ["load_cluster_config", "make_cluster"]

_KINDS = ("local", "slurm")


def load_cluster_config(path: str | Path) -> dict[str, Any]:
    """Read and check a cluster file; returns ``{"kind", "jobs", "local", "slurm"}``."""
    import yaml

    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"cluster file {path} does not exist (see docs/cluster.yaml).") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"cluster file {path} is not valid YAML: {exc}") from None
    if not isinstance(cfg, dict) or cfg.get("kind") not in _KINDS:
        raise ConfigError(f"cluster file {path} must set kind: one of {list(_KINDS)}.")
    for key in _KINDS:
        if not isinstance(cfg.get(key, {}), dict):
            raise ConfigError(f"cluster file {path}: section {key!r} must be a mapping.")
    jobs = cfg.get("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"cluster file {path}: jobs must be a positive integer, got {jobs!r}.")
    return {"kind": cfg["kind"], "jobs": jobs, **{k: dict(cfg.get(k) or {}) for k in _KINDS}}


def make_cluster(path: str | Path, kind: str | None = None, *, start: bool = True):
    """The cluster a file describes (``kind`` overrides the file's), scaled to its ``jobs`` when
    ``start`` (SLURM jobs are submitted then); use it as ``executor=`` via its client."""
    cfg = load_cluster_config(path)
    kind = kind or cfg["kind"]
    if kind not in _KINDS:
        raise ConfigError(f"kind must be one of {list(_KINDS)}, got {kind!r}.")
    if kind == "local":
        from distributed import LocalCluster

        return LocalCluster(**{"dashboard_address": None, "processes": True, **cfg["local"]})
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as exc:
        raise ConfigError(
            "SLURM clusters need dask-jobqueue: pip install 'neuroalign[cluster]'."
        ) from exc
    cluster = SLURMCluster(**cfg["slurm"])
    if start:
        cluster.scale(jobs=cfg["jobs"])
    return cluster
