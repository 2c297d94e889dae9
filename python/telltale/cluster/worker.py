"""What a Dask worker runs: ``telltale detect --emit-partial`` over one shard, or ``telltale merge --emit-partial``
over a group of partials. The result lands under a private name and is linked into place only when complete, so a
worker killed mid-shard never leaves a partial that a rerun would take for finished, and a file is never overwritten.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid


class ShardFailed(Exception):
    """The CLI refused the shard's input (exit 2): the message is its one-line error, naming the file."""


def _publish(tmp: str, out: str) -> None:
    # A task Dask ran twice (a worker lost after finishing) computed the same bytes: the first copy stays.
    try:
        os.link(tmp, out)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    if proc.returncode not in (0, 1):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        if proc.returncode == 2:
            raise ShardFailed(reason)
        raise RuntimeError(f"{what}: telltale ended with status {proc.returncode}: {reason}")
    return proc


def score_shard(telltale: str, detect_args: list[str], files: list[str], out: str) -> dict:
    """Scores one shard into the partial-result file `out`; returns its counters (documents, tokens, seconds)."""
    start = time.monotonic()
    tmp = f"{out}.tmp-{uuid.uuid4().hex}"
    cmd = [telltale, "detect", *detect_args, "--quiet", "--allow-empty", "--emit-partial", tmp, "--", *files]
    try:
        proc = _run(cmd, os.path.basename(out))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _publish(tmp, out)
    summary = json.loads(proc.stdout)
    return {
        "documents": summary["documents"],
        "tokens": summary["tokens"],
        "skipped_bad": summary["skipped_bad"],
        "seconds": time.monotonic() - start,
    }


def merge_group(telltale: str, partials: list[str], out: str, spill_args: list[str]) -> str:
    """Merges consecutive partials into one (a level of the merge tree); returns `out`. `spill_args` (detect's
    --memory-limit and --spill-dir, when given) make the merge hold one partial's tuples at a time."""
    if os.path.exists(out):
        return out  # resumed
    tmp = f"{out}.tmp-{uuid.uuid4().hex}"
    try:
        _run([telltale, "merge", *spill_args, "--emit-partial", tmp, "--", *partials], os.path.basename(out))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _publish(tmp, out)
    return out
