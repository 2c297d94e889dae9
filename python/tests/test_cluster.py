"""Acceptance of corpus verification on Dask: a real dask-scheduler and two dask-worker processes on 127.0.0.1, a
corpus of 60 shards, one worker killed while it scores one; the report must equal `telltale detect`'s byte for byte
(it holds no timing field), and every process started is stopped at the end, also on failure."""

from __future__ import annotations

import pathlib

import pytest
from cluster_support import (
    TOKENIZER,
    DaskCluster,
    Processes,
    partials,
    run_cli,
    slow_cli,
    telltale_cli,
    wait_for,
    write_corpus,
    PYTHON,
)

SHARDS = 60


@pytest.fixture
def procs(tmp_path: pathlib.Path):
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


def test_a_worker_killed_mid_run_leaves_the_report_identical_to_one_detect(tmp_path: pathlib.Path, procs):
    if not telltale_cli().exists():
        pytest.skip("the telltale CLI is not built")
    corpus = write_corpus(tmp_path, SHARDS)
    assert run_cli("keygen", "-o", tmp_path / "wm.key").returncode == 0
    common = ["-k", tmp_path / "wm.key", "-t", TOKENIZER, "--window", "50"]
    expected = run_cli("detect", "-q", *common, corpus)
    assert expected.returncode in (0, 1), expected.stderr

    cluster = DaskCluster(procs, tmp_path)
    doomed = cluster.add_worker("doomed")
    cluster.add_worker("survivor")
    cluster.wait_workers(2)

    work = tmp_path / "work"
    out = open(tmp_path / "cluster.out", "wb")
    # Each shard sleeps 0.3 s in the CLI wrapper first, so the 60 shards take well over ten seconds: the kill below
    # lands while the doomed worker has a shard in flight and most shards are still to score.
    client = procs.start("client", [PYTHON, "-m", "telltale.cluster", "detect", "--scheduler", cluster.address,
                                    "--work-dir", work, "--telltale", slow_cli(tmp_path, 0.3), "--shard-size", "1",
                                    *common, corpus], stdout=out)
    out.close()
    wait_for(lambda: len(partials(work)) >= 3, "three shards scored")
    procs.kill(doomed)  # SIGKILL to the worker's process group: the worker and the CLI it was running
    doomed.wait()
    done_at_kill = len(partials(work))
    assert done_at_kill < SHARDS - 5, "the run ended before the worker was killed: the test proved nothing"

    wait_for(lambda: client.poll() is not None, "the cluster job to finish", timeout=300)
    log = (tmp_path / "client.log").read_text()
    assert client.returncode == expected.returncode, log
    assert len(partials(work)) == SHARDS
    assert f"{SHARDS}/{SHARDS} shards" in log
    assert "1 worker alive" in log, "the progress never showed the loss of a worker"
    assert (tmp_path / "cluster.out").read_text() == expected.stdout
