"""What the cluster tests share: a real Dask scheduler and workers on 127.0.0.1 (Debian's dask-scheduler and
dask-worker), each in its own process group so that stopping one stops its children too, and every one stopped at
the end whatever happens; a corpus whose files overlap (so that de-duplication crosses shards); the CLI's paths."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("TELLTALE_SHARED_DIR", ROOT.parent / "shared"))
TOKENIZER = SHARED / "models" / "stories260K" / "tok512.model"
CORPUS_TEXT = SHARED / "corpora" / "tinyshakespeare.txt"
DASK_SCHEDULER = "/usr/bin/dask-scheduler"
DASK_WORKER = "/usr/bin/dask-worker"
PYTHON = sys.executable


def build_dir() -> pathlib.Path:
    build = os.environ.get("TELLTALE_BUILD_DIR")
    if not build:
        pytest.skip("TELLTALE_BUILD_DIR is not set (scripts/test-python sets it)")
    return pathlib.Path(build)


def telltale_cli() -> pathlib.Path:
    return build_dir() / "verify" / "telltale"


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    """Polls `condition` until it holds; fails naming `what` after `timeout` seconds (generous: the machine is
    shared and loaded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(build_dir() / "python") + (":" + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    return e


class Processes:
    """Processes started in their own sessions (process groups), all stopped by stop_all()."""

    def __init__(self, logs: pathlib.Path):
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, cmd: list, **kw) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")
        p = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=kw.pop("stdout", log),
                             stderr=log, start_new_session=True, env=kw.pop("env", env()), **kw)
        log.close()
        self.started.append(p)
        return p

    @staticmethod
    def kill(p: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for p in self.started:
            self.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in self.started:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self.kill(p, signal.SIGKILL)  # the group: children a worker left behind too
            p.wait()


class DaskCluster:
    """A dask-scheduler on a free port of 127.0.0.1 (it picks the port and writes it to a scheduler file) and
    workers of one thread each."""

    def __init__(self, procs: Processes, tmp: pathlib.Path):
        self.procs = procs
        self.file = tmp / "scheduler.json"
        self.scheduler = procs.start("scheduler", [DASK_SCHEDULER, "--host", "127.0.0.1", "--port", "0",
                                                   "--no-dashboard", "--scheduler-file", self.file])
        wait_for(lambda: self.file.exists() and self.file.stat().st_size > 0, "the scheduler file")
        import json

        wait_for(lambda: "address" in _read_json(self.file), "the scheduler's address")
        self.address = json.loads(self.file.read_text())["address"]
        self.workers: list[subprocess.Popen] = []

    def add_worker(self, name: str, extra_env: dict | None = None) -> subprocess.Popen:
        e = env()
        e.update(extra_env or {})
        w = self.procs.start(name, [DASK_WORKER, "--scheduler-file", self.file, "--nthreads", "1", "--no-nanny",
                                    "--host", "127.0.0.1", "--no-dashboard", "--name", name], env=e)
        self.workers.append(w)
        return w

    def wait_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="60s") as c:
            wait_for(lambda: len(c.nthreads()) == count, f"{count} workers to register")


def _read_json(path: pathlib.Path) -> dict:
    import json

    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def write_corpus(root: pathlib.Path, files: int) -> pathlib.Path:
    """`files` documents cut from tinyshakespeare, each overlapping the next by half, spread over nested
    directories whose names test the walk's byte order (upper case before lower case), plus JSONL files of JSON
    strings; a dot file that detect ignores."""
    import json

    lines = CORPUS_TEXT.read_text(encoding="utf-8").splitlines()
    corpus = root / "corpus"
    for i in range(files):
        text = "\n".join(lines[i * 30 : i * 30 + 60]) + "\n"
        sub = corpus / ("B" if i % 3 == 0 else "a") / f"d{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        if i % 5 == 4:
            (sub / f"doc{i:03d}.jsonl").write_text(json.dumps(text) + "\n" + json.dumps(text[::-1]) + "\n")
        else:
            (sub / f"doc{i:03d}.txt").write_text(text)
    (corpus / ".hidden.txt").write_text("never read\n")
    return corpus


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(telltale_cli()), *[str(a) for a in args]], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def run_cluster(*args, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The cluster command in its own process group, which is killed whole afterwards: a local cluster's worker
    processes never outlive a test, even one that timed out."""
    cmd = [PYTHON, "-m", "telltale.cluster", "detect", *[str(a) for a in args]]
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env(), start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        Processes.kill(p)
        p.wait()
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def slow_cli(tmp: pathlib.Path, seconds: float) -> pathlib.Path:
    """A telltale CLI that first sleeps: keeps every shard in flight long enough to be interrupted."""
    wrapper = tmp / "slow-telltale"
    wrapper.write_text(f"#!/bin/sh\nsleep {seconds}\nexec '{telltale_cli()}' \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def partials(work: pathlib.Path) -> list[pathlib.Path]:
    return sorted(work.glob("shard-*.part")) if work.exists() else []
