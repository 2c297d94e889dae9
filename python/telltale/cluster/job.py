"""The client side of a cluster job: checks the options, lists and shards the inputs, resumes from the partials a
previous run left in the work directory, has Dask workers score the rest, and merges every partial in input order
(a tree of `merge --emit-partial` tasks when there are many, then one streaming `telltale merge`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from telltale.cluster.options import ClusterOptions
from telltale.cluster.shards import list_inputs, make_shards, job_id
from telltale.cluster.worker import ShardFailed, merge_group, score_shard

MERGE_FAN_IN = 256  # partials one merge opens at once (well under the usual 1024 open files)
_PROGRESS_SECONDS = 2.0
_PARTIAL_MAGIC = b"TTPART2\n"


class JobError(Exception):
    """A one-line error for the user (exit 2)."""


def say(message: str) -> None:
    print(f"telltale.cluster: {message}", file=sys.stderr, flush=True)


def resolve_cli(given: str) -> str:
    """The telltale CLI as an absolute path, which every worker runs (the work directory and it must be on storage
    the workers share)."""
    candidates = [given] if given else []
    if not given:
        if os.environ.get("TELLTALE_CLI"):
            candidates.append(os.environ["TELLTALE_CLI"])
        # In a build tree the package sits in <build>/python/telltale and the CLI in <build>/verify/telltale.
        here = os.path.dirname(os.path.abspath(__file__))
        candidates.append(os.path.join(here, "..", "..", "..", "verify", "telltale"))
        candidates.append(shutil.which("telltale") or "")
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.realpath(c)
    raise JobError(f"{given}: not an executable telltale CLI" if given else "no telltale CLI found (give --telltale)")


def check_detect_args(telltale: str, detect_args: list[str]) -> None:
    """Runs detect once over an empty input, so that a bad option, key or tokenizer fails before any shard does,
    with detect's own message."""
    with tempfile.TemporaryDirectory(prefix="telltale-cluster-") as tmp:
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "wb").close()
        proc = subprocess.run([telltale, "detect", *detect_args, "--quiet", "--allow-empty", "--", empty],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    if proc.returncode not in (0, 1):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise JobError(_cli_message(lines[-1] if lines else f"telltale detect ended with status {proc.returncode}"))


def _cli_message(line: str) -> str:
    return line.removeprefix("telltale: error: ")


def check_partial(path: str) -> None:
    """A partial left by an earlier run must be whole: the magic, and the SHA-256 of every byte before the last 32
    (spec/partial-results.md, integrity)."""
    digest = hashlib.sha256()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        magic = f.read(len(_PARTIAL_MAGIC))
        digest.update(magic)
        left = size - len(magic) - 32
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        stored = f.read(32)
    if magic != _PARTIAL_MAGIC or left != 0 or len(stored) != 32 or stored != digest.digest():
        raise JobError(f"{path}: damaged partial result (its SHA-256 checksum does not match its bytes); "
                       "remove it to score its shard again")


def prepare_work_dir(work_dir: str, jid: str, shards: int) -> None:
    os.makedirs(work_dir, exist_ok=True)
    manifest = os.path.join(work_dir, "job.json")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            try:
                old = json.load(f).get("job")
            except (ValueError, AttributeError):
                old = None
        if old != jid:
            raise JobError(f"{work_dir}: holds the partial results of another job (other inputs or options); "
                           "give another --work-dir")
        return
    tmp = f"{manifest}.tmp-{uuid.uuid4().hex}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"format": "telltale-cluster-job-1", "job": jid, "shards": shards}, f)
    os.replace(tmp, manifest)


class Progress:
    """Shards done / total, tokens/s of this run and workers alive, on stderr every two seconds."""

    def __init__(self, enabled: bool, total: int, resumed: int):
        self.enabled, self.total, self.resumed = enabled, total, resumed
        self.done = resumed
        self.tokens = 0
        self.start = time.monotonic()
        self.next = self.start + _PROGRESS_SECONDS
        self.last = ""

    def line(self, workers: int) -> str:
        rate = self.tokens / max(time.monotonic() - self.start, 1e-9)
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        return (f"{self.done}/{self.total} shards{resumed}, {rate / 1e3:.1f} k tokens/s, "
                f"{workers} worker{'s' if workers != 1 else ''} alive")

    def tick(self, client, final: bool = False) -> None:
        if not self.enabled or (not final and time.monotonic() < self.next):
            return
        self.next = time.monotonic() + _PROGRESS_SECONDS
        line = self.line(len(client.scheduler_info().get("workers", {})))
        if line != self.last:
            say(line)
        self.last = line


def _wait_some(pending, timeout: float):
    from distributed import wait

    try:
        return wait(list(pending), timeout=timeout, return_when="FIRST_COMPLETED")
    except (TimeoutError, asyncio.TimeoutError):
        return set(), pending


def _failure(future, what: str) -> JobError:
    exc = future.exception()
    if isinstance(exc, ShardFailed):
        return JobError(f"{what}: {_cli_message(str(exc))}")
    return JobError(f"{what}: {type(exc).__name__}: {exc}")


def score_shards(client, telltale: str, o: ClusterOptions, todo: list, progress: Progress) -> None:
    """Submits every shard still to score and waits for all; the first failure cancels the rest."""
    nonce = uuid.uuid4().hex[:8]
    futures = {}
    for shard, out in todo:
        f = client.submit(score_shard, telltale, o.detect_args, [x.path for x in shard.files], out,
                          key=f"telltale-shard-{shard.index}-{nonce}", pure=False)
        futures[f] = shard
    pending = set(futures)
    try:
        while pending:
            done, pending = _wait_some(pending, _PROGRESS_SECONDS)
            for f in done:
                if f.status != "finished":
                    files = futures[f].files
                    raise _failure(f, f"shard {futures[f].index} ({files[0].path} .. {files[-1].path})")
                progress.done += 1
                progress.tokens += f.result()["tokens"]
            progress.tick(client)
    finally:
        client.cancel(list(pending))


def merge_tree(client, telltale: str, work_dir: str, partials: list[str], spill_args: list[str]) -> list[str]:
    """Merges groups of MERGE_FAN_IN consecutive partials on the workers until one final merge can open them all."""
    from distributed import wait

    level = 0
    while len(partials) > MERGE_FAN_IN:
        level += 1
        groups = [partials[i : i + MERGE_FAN_IN] for i in range(0, len(partials), MERGE_FAN_IN)]
        outs = [os.path.join(work_dir, f"merge-{level}-{j:06d}.part") for j in range(len(groups))]
        futures = [client.submit(merge_group, telltale, g, out, spill_args, pure=False) for g, out in zip(groups, outs)]
        for f, out in zip(futures, outs):
            wait([f])
            if f.status != "finished":
                raise _failure(f, f"merging into {out}")
        partials = outs
    return partials


def spill_options(detect_args: list[str]) -> list[str]:
    """Detect's --memory-limit and --spill-dir among the options, for the merges of the tree."""
    out = []
    for name, value in zip(detect_args, detect_args[1:]):
        if name in ("--memory-limit", "--spill-dir"):
            out += [name, value]
    return out


def final_merge(telltale: str, o: ClusterOptions, partials: list[str]) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 4 * MERGE_FAN_IN):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * MERGE_FAN_IN), hard))
    cmd = [telltale, "merge"]
    if o.alpha:
        cmd += ["--alpha", o.alpha]
    if o.emit_partial:
        cmd += ["--emit-partial", o.emit_partial]
    proc = subprocess.run([*cmd, "--", *partials], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise JobError(_cli_message(lines[-1] if lines else f"telltale merge ended with status {proc.returncode}"))
    if not o.allow_empty and json.loads(proc.stdout).get("documents", 0) == 0:
        raise JobError("no documents read in the inputs (give --allow-empty to accept that)")
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    return proc.returncode


def remove_stale(work_dir: str) -> None:
    """Removes what workers killed mid-shard left behind (their half-written partials, never linked into place)."""
    for name in os.listdir(work_dir):
        if ".part.tmp-" in name:
            try:
                os.unlink(os.path.join(work_dir, name))
            except FileNotFoundError:
                pass


def connect(o: ClusterOptions):
    from distributed import Client, LocalCluster

    if o.scheduler:
        return Client(o.scheduler, timeout="60s"), None
    cluster = LocalCluster(n_workers=o.workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_detect(o: ClusterOptions) -> int:
    telltale = resolve_cli(o.telltale)
    check_detect_args(telltale, o.detect_args)
    try:
        shards = make_shards(list_inputs(o.inputs), o.shard_size)
    except ValueError as e:
        raise JobError(str(e)) from None
    if not shards:
        raise JobError("no documents read: the inputs hold no file")
    jid = job_id(o.detect_args, shards)
    work_dir = o.work_dir or f"telltale-cluster-{jid[:16]}"
    prepare_work_dir(work_dir, jid, len(shards))
    partials = [os.path.join(work_dir, f"shard-{s.index:06d}.part") for s in shards]
    todo = []
    for shard, path in zip(shards, partials):
        if os.path.exists(path):
            check_partial(path)
        else:
            todo.append((shard, path))
    progress = Progress(not o.quiet, len(shards), len(shards) - len(todo))
    if not o.quiet:
        resumed = f", {progress.resumed} already scored" if progress.resumed else ""
        say(f"{len(shards)} shards in {work_dir}{resumed}")
    client, cluster = connect(o)
    try:
        score_shards(client, telltale, o, todo, progress)
        progress.tick(client, final=True)
        partials = merge_tree(client, telltale, work_dir, partials, spill_options(o.detect_args))
        remove_stale(work_dir)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return final_merge(telltale, o, partials)
