"""The repository's cluster file: a valid SLURM job script, and the same file run on a LocalCluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuroalign.cluster import load_cluster_config, make_cluster
from neuroalign.errors import ConfigError
from neuroalign.parallel import run_tasks

CONFIG = Path(__file__).resolve().parents[1] / "docs" / "cluster.yaml"


def square(task, inputs):
    return task * task + inputs["offset"]


def test_slurm_job_script_follows_the_file():
    pytest.importorskip("dask_jobqueue")
    cluster = make_cluster(CONFIG, start=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    cfg = load_cluster_config(CONFIG)["slurm"]
    assert f"#SBATCH -p {cfg['queue']}" in script
    assert f"--cpus-per-task={cfg['cores']}" in script
    assert f"#SBATCH -t {cfg['walltime']}" in script
    assert "export OMP_NUM_THREADS=1" in script
    assert f"--nworkers {cfg['processes']}" in script


def test_same_file_runs_a_sweep_on_a_local_cluster():
    pytest.importorskip("distributed")
    cluster = make_cluster(CONFIG, kind="local")
    try:
        assert len(cluster.workers) == load_cluster_config(CONFIG)["local"]["n_workers"]
        out = run_tasks(square, range(5), shared={"offset": 1}, executor=cluster)
    finally:
        cluster.close()
    assert out == [1, 2, 5, 10, 17]


@pytest.mark.parametrize(
    "text, match",
    [
        ("kind: pbs\n", "kind"),
        ("kind: local\njobs: 0\n", "jobs"),
        ("kind: local\nlocal: [1, 2]\n", "mapping"),
        ("kind: [unclosed\n", "YAML"),
    ],
)
def test_bad_cluster_files(tmp_path, text, match):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_cluster_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_cluster_config(tmp_path / "missing.yaml")
