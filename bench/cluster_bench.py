#!/usr/bin/env python3
"""Bench of corpus verification on Dask (issue 26): the plain CLI against `python3 -m telltale.cluster detect` on
the same corpus, with 1 and 2 dask-workers on this machine, the merge's time and bytes, and the load average.

Usage: /usr/bin/python3 bench/cluster_bench.py BUILD_DIR [COPIES]   (prints a markdown table; timings only)
The corpus: ../shared's two corpora, COPIES times (default 2), cut into files of 40 000 bytes at line ends.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TELLTALE_SHARED_DIR", ROOT.parent / "shared"))
TOK = SHARED / "models" / "stories260K" / "tok512.model"


def make_corpus(dest: pathlib.Path, copies: int) -> int:
    dest.mkdir()
    data = b"".join((SHARED / "corpora" / n).read_bytes() for n in ("austen_6novels.txt", "tinyshakespeare.txt"))
    n = 0
    for c in range(copies):
        at = 0
        while at < len(data):
            end = data.find(b"\n", at + 40000)
            end = len(data) if end < 0 else end + 1
            # Each copy differs by a prefix line, so that its tuples are not all duplicates of the first copy's.
            (dest / f"f{n:05d}.txt").write_bytes(f"copy {c}\n".encode() + data[at:end])
            at, n = end, n + 1
    return n


def timed(cmd: list, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if p.returncode not in (0, 1):
        sys.exit(f"bench: {cmd[:3]} failed: {p.stderr.strip()[-400:]}")
    return time.monotonic() - start, p


def main() -> None:
    build = pathlib.Path(sys.argv[1]).resolve()
    copies = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    tt = build / "verify" / "telltale"
    env = dict(os.environ, PYTHONPATH=str(build / "python"))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="telltale-cluster-bench-"))
    procs: list[subprocess.Popen] = []
    try:
        files = make_corpus(tmp / "corpus", copies)
        subprocess.run([tt, "keygen", "-o", tmp / "k.key"], check=True, capture_output=True)
        common = ["-q", "-k", tmp / "k.key", "-t", TOK]
        rows = []
        t, p = timed([tt, "detect", *common, tmp / "corpus"])
        tokens = json.loads(p.stdout)["tokens"]
        reference = p.stdout
        rows.append(("plain CLI, -j 1", t, 1))
        t, _ = timed([tt, "detect", *common, "-j", "2", tmp / "corpus"])
        rows.append(("plain CLI, -j 2", t, 2))
        sched_file = tmp / "s.json"
        procs.append(subprocess.Popen(["/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", sched_file], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        while not sched_file.exists() or "address" not in sched_file.read_text():
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        merge = None
        for workers in (1, 2):
            procs.append(subprocess.Popen(["/usr/bin/dask-worker", "--scheduler-file", sched_file, "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True))
            time.sleep(3)  # registered; the job's own timing starts at its submission anyway
            work = tmp / f"work{workers}"
            t, p = timed(["/usr/bin/python3", "-m", "telltale.cluster", "detect", "--scheduler", address,
                          "--work-dir", work, "--shard-size", "1M", *common, tmp / "corpus"], env)
            assert p.stdout == reference, "the cluster's report differs from detect's"
            rows.append((f"Dask, {workers} worker{'s' if workers > 1 else ''}", t, workers))
            parts = sorted(work.glob("shard-*.part"))
            mt, _ = timed([tt, "merge", *parts])
            merge = (len(parts), sum(x.stat().st_size for x in parts), mt)
        print(f"corpus: {files} files, {tokens} tokens; load average at the end {os.getloadavg()[0]:.1f}")
        print("| run | seconds | tokens/s | tokens/s per core |")
        print("|---|---|---|---|")
        for name, t, cores in rows:
            print(f"| {name} | {t:.2f} | {tokens / t:,.0f} | {tokens / t / cores:,.0f} |")
        n, size, mt = merge
        print(f"merge of {n} partials, {size / 1e6:.1f} MB: {mt:.2f} s ({size / 1e6 / mt:.0f} MB/s)")
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
