"""The cluster job's failures and resumption, on a real dask-scheduler with one dask-worker (127.0.0.1): a bad shard
stops the job naming its file (or is counted under --skip-bad), a rerun after the client died resumes from the
partials written, a damaged partial is named, a work directory of another job is refused, bad options fail before
any shard runs; and the input walk and the sharding themselves."""

from __future__ import annotations

import os
import pathlib

import pytest
from cluster_support import (
    TOKENIZER,
    DaskCluster,
    Processes,
    partials,
    run_cli,
    run_cluster,
    slow_cli,
    telltale_cli,
    wait_for,
    write_corpus,
    PYTHON,
)

from telltale.cluster import list_inputs, make_shards
from telltale.cluster.shards import InputFile, parse_size


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    if not telltale_cli().exists():
        pytest.skip("the telltale CLI is not built")
    tmp = tmp_path_factory.mktemp("cluster")
    procs = Processes(tmp)
    try:
        cluster = DaskCluster(procs, tmp)
        cluster.add_worker("worker")
        cluster.wait_workers(1)
        assert run_cli("keygen", "-o", tmp / "wm.key").returncode == 0
        yield tmp, cluster, procs
    finally:
        procs.stop_all()


def _common(tmp: pathlib.Path) -> list:
    return ["-k", tmp / "wm.key", "-t", TOKENIZER]


def test_a_bad_shard_stops_the_job_naming_its_file(setup, tmp_path: pathlib.Path):
    tmp, cluster, _ = setup
    corpus = write_corpus(tmp_path, 8)
    bad = corpus / "a" / "d1" / "doc005.jsonl"
    bad.write_text('"fine"\n{"not a string": 1\n')
    got = run_cluster("--scheduler", cluster.address, "--work-dir", tmp_path / "w", "--shard-size", "1",
                      *_common(tmp), corpus)
    assert got.returncode == 2, got.stderr
    assert str(bad) in got.stderr.splitlines()[-1]
    assert got.stdout == ""


def test_skip_bad_counts_the_bad_document_as_detect_does(setup, tmp_path: pathlib.Path):
    tmp, cluster, _ = setup
    corpus = write_corpus(tmp_path, 8)
    (corpus / "a" / "d1" / "doc005.jsonl").write_text('"fine"\n{"not a string": 1\n')
    expected = run_cli("detect", "-q", "--skip-bad", *_common(tmp), corpus)
    assert '"skipped_bad": 1' in expected.stdout
    got = run_cluster("--scheduler", cluster.address, "--work-dir", tmp_path / "w", "--shard-size", "1", "-q",
                      "--skip-bad", *_common(tmp), corpus)
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout), got.stderr


def test_a_rerun_after_the_client_died_resumes_from_the_partials_written(setup, tmp_path: pathlib.Path):
    tmp, cluster, procs = setup
    corpus = write_corpus(tmp_path, 20)
    work = tmp_path / "w"
    expected = run_cli("detect", "-q", *_common(tmp), corpus)
    client = procs.start("dying-client", [PYTHON, "-m", "telltale.cluster", "detect", "--scheduler", cluster.address,
                                          "--work-dir", work, "--telltale", slow_cli(tmp_path, 0.3),
                                          "--shard-size", "1", *_common(tmp), corpus])
    wait_for(lambda: len(partials(work)) >= 3, "three shards scored")
    procs.kill(client)
    client.wait()
    written = len(partials(work))
    assert written < 20, "the job ended before the client was killed: the test proved nothing"

    got = run_cluster("--scheduler", cluster.address, "--work-dir", work, "--shard-size", "1", *_common(tmp), corpus)
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout), got.stderr
    resumed = int(got.stderr.split(" already scored")[0].rsplit(", ", 1)[1])
    assert resumed >= written
    assert not [p for p in os.listdir(work) if ".tmp-" in p], "a half-written partial was left behind"


def test_a_damaged_partial_in_the_work_directory_is_named(setup, tmp_path: pathlib.Path):
    tmp, cluster, _ = setup
    corpus = write_corpus(tmp_path, 4)
    work = tmp_path / "w"
    args = ["--scheduler", cluster.address, "--work-dir", work, "--shard-size", "1", "-q", *_common(tmp), corpus]
    assert run_cluster(*args).returncode in (0, 1)
    victim = partials(work)[2]
    victim.write_bytes(victim.read_bytes()[:-7])  # truncated
    got = run_cluster(*args)
    assert got.returncode == 2
    assert got.stderr.splitlines()[-1].startswith(f"telltale.cluster: error: {victim}: damaged partial result")


def test_a_work_directory_of_another_job_is_refused(setup, tmp_path: pathlib.Path):
    tmp, cluster, _ = setup
    corpus = write_corpus(tmp_path, 3)
    work = tmp_path / "w"
    base = ["--scheduler", cluster.address, "--work-dir", work, "-q", *_common(tmp), corpus]
    assert run_cluster(*base).returncode in (0, 1)
    got = run_cluster(*base, "--no-dedup")
    assert got.returncode == 2
    assert "holds the partial results of another job" in got.stderr


def test_a_local_cluster_runs_when_no_scheduler_is_given(setup, tmp_path: pathlib.Path):
    tmp, _, _ = setup
    corpus = write_corpus(tmp_path, 6)
    expected = run_cli("detect", "-q", "--scheme", "gumbel", *_common(tmp), corpus)
    got = run_cluster("--workers", "1", "--work-dir", tmp_path / "w", "--shard-size", "4K", "-q", "--scheme",
                      "gumbel", *_common(tmp), corpus, "--emit-partial", tmp_path / "all.part")
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout), got.stderr
    merged = run_cli("merge", tmp_path / "all.part")
    assert merged.stdout == expected.stdout


def test_many_shards_merge_through_a_tree_of_merges_to_the_same_report(setup, tmp_path, monkeypatch, capsys):
    import telltale.cluster.job as job
    from telltale.cluster.options import parse

    tmp, cluster, _ = setup
    monkeypatch.setattr(job, "MERGE_FAN_IN", 3)  # 10 shards: 4 merges, then 2, then the final one
    corpus = write_corpus(tmp_path, 10)
    expected = run_cli("detect", "-q", "--window", "30", *_common(tmp), corpus)
    work = tmp_path / "w"
    # A tiny --memory-limit: every shard spills its tuple set, and every merge of the tree holds one file at a time.
    o = parse(["--scheduler", cluster.address, "--work-dir", str(work), "--shard-size", "1", "-q", "--window", "30",
               "--memory-limit", "4096", "--spill-dir", str(tmp_path), *[str(a) for a in _common(tmp)], str(corpus)])
    rc = job.run_detect(o)
    assert (rc, capsys.readouterr().out) == (expected.returncode, expected.stdout)
    assert len(partials(work)) == 10
    assert sorted(p.name for p in work.glob("merge-*.part")) == [
        "merge-1-000000.part", "merge-1-000001.part", "merge-1-000002.part", "merge-1-000003.part",
        "merge-2-000000.part", "merge-2-000001.part"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bundle", "b"], "--bundle is not available on a cluster"),
        (["--per-doc"], "--per-doc is not available on a cluster"),
        (["--shard-size", "0"], "--shard-size: '0' is not a size"),
        (["--scheme", "nope"], "--scheme"),
        (["-"], "stdin (-) cannot be cut into shards"),
    ],
)
def test_bad_options_fail_with_one_line_before_any_shard_runs(setup, tmp_path, args, message):
    tmp, _, _ = setup
    (tmp_path / "doc.txt").write_text("hello there\n")
    got = run_cluster("--scheduler", "tcp://127.0.0.1:1", *_common(tmp), tmp_path / "doc.txt", *args, timeout=60)
    assert got.returncode == 2
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], got.stderr


def test_a_missing_key_fails_with_detects_message_and_never_names_key_bytes(setup, tmp_path):
    (tmp_path / "doc.txt").write_text("hello there\n")
    got = run_cluster("-k", tmp_path / "none.key", "-t", TOKENIZER, tmp_path / "doc.txt", timeout=60)
    assert got.returncode == 2
    assert str(tmp_path / "none.key") in got.stderr


def test_the_walk_reads_directories_in_byte_order_skipping_dot_files_and_linked_directories(tmp_path):
    for name in ["b.txt", "B.txt", "a/z.txt", "a/.x.txt", "A2/c.txt", "_.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "flink.txt").symlink_to(tmp_path / "b.txt")
    got = [os.path.relpath(f.path, tmp_path) for f in list_inputs([str(tmp_path), str(tmp_path / "b.txt")])]
    assert got == ["A2/c.txt", "B.txt", "_.txt", "a/z.txt", "b.txt", "flink.txt", "b.txt"]


def test_shards_hold_consecutive_whole_files_up_to_the_size():
    files = [InputFile(f"f{i}", size, 0) for i, size in enumerate([10, 10, 25, 5, 100, 1])]
    shards = make_shards(files, 25)
    assert [[f.path for f in s.files] for s in shards] == [["f0", "f1"], ["f2"], ["f3"], ["f4"], ["f5"]]
    assert [s.index for s in shards] == [0, 1, 2, 3, 4]
    assert parse_size("64M") == 64 << 20 and parse_size("3k") == 3072 and parse_size("7") == 7
    with pytest.raises(ValueError):
        parse_size("1.5G")
