"""The inputs of a cluster job in the order ``telltale detect`` reads them, cut into shards of whole files.

The walk mirrors verify/input/directory_reader.cpp: given paths in order, directories recursively with their entries
in byte order of their names, skipping names that start with '.', symbolic links to directories and anything that is
neither a regular file nor a directory. A path the walk cannot examine is kept as an input, so that the shard holding
it fails (or skips it under --skip-bad) exactly as ``detect`` would.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputFile:
    path: str  # as detect names it: the given path, or dir/sub/name for a file found in a directory
    size: int  # bytes (0 when it cannot be examined)
    mtime_ns: int


@dataclass
class Shard:
    index: int
    files: list[InputFile] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def _examine(path: str) -> InputFile:
    try:
        st = os.stat(path)
    except OSError:
        return InputFile(path, 0, 0)
    return InputFile(path, st.st_size, st.st_mtime_ns)


def _walk_dir(directory: str, out: list[InputFile]) -> None:
    try:
        names = [n for n in os.listdir(directory) if not n.startswith(".")]
    except OSError:
        out.append(InputFile(directory, 0, 0))  # detect reports (or skips) the unlistable directory itself
        return
    for name in sorted(names, key=os.fsencode):  # byte order, as std::sort on the names
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                st = os.stat(path)
                if stat.S_ISDIR(st.st_mode):
                    continue  # not followed: links could make the walk loop
        except OSError:
            out.append(InputFile(path, 0, 0))
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk_dir(path, out)
        elif stat.S_ISREG(st.st_mode):
            out.append(InputFile(path, st.st_size, st.st_mtime_ns))


def list_inputs(paths: list[str]) -> list[InputFile]:
    """Every input file, in detect's reading order. Raises ValueError for stdin ("-"), which cannot be sharded."""
    out: list[InputFile] = []
    for path in paths:
        if path == "-":
            raise ValueError("stdin (-) cannot be cut into shards; give files or directories")
        if os.path.isdir(path):
            _walk_dir(path, out)
        else:
            out.append(_examine(path))
    return out


def make_shards(files: list[InputFile], shard_size: int) -> list[Shard]:
    """Consecutive files, at most shard_size bytes per shard; a larger file is a shard of its own."""
    if shard_size < 1:
        raise ValueError("shard size must be at least 1 byte")
    shards: list[Shard] = []
    current = Shard(0)
    for f in files:
        if current.files and current.size + f.size > shard_size:
            shards.append(current)
            current = Shard(len(shards))
        current.files.append(f)
    if current.files:
        shards.append(current)
    return shards


def parse_size(text: str) -> int:
    """A byte count with an optional K, M, G or T suffix (powers of 1024)."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B")
    suffix = t[-1:] if t[-1:] in units and t[-1:] != "" else ""
    number = t[: len(t) - len(suffix)]
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"'{text}' is not a size (a positive whole number of bytes, optionally K, M, G or T)")
    return int(number) * units[suffix]


def job_id(detect_args: list[str], shards: list[Shard]) -> str:
    """A digest of what the job computes: the options and every input file (path, size, modification time).
    Key files enter by path and the options only, never by content."""
    desc = {
        "format": "telltale-cluster-job-1",
        "args": detect_args,
        "shards": [[[f.path, f.size, f.mtime_ns] for f in s.files] for s in shards],
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()
