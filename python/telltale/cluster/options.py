"""The command line of ``python3 -m telltale.cluster detect``: detect's own options, passed through to every shard,
plus the cluster's (--scheduler, --shard-size, --work-dir, --workers, --telltale).

Detect's options are not redeclared here (its scheme flags come from a table in the C++ CLI): every option takes one
value except the flags listed below, and the CLI itself checks them (the client runs it once on no input first).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from telltale.cluster.shards import parse_size

USAGE = """usage: python3 -m telltale.cluster detect [DETECT OPTIONS] [CLUSTER OPTIONS] INPUTS...

Runs `telltale detect` over INPUTS on a Dask cluster, shard by shard, and prints the report one `telltale detect`
over the same inputs prints, bit for bit. Exit 0 detected, 1 not detected, 2 error.

Detect options (as `telltale detect --help`): --key, --tokenizer, --scheme and its parameters, --field, --split,
  --prompt, --alpha, --threads and --memory-limit (per shard), --no-dedup, --window, --skip-bad, --allow-empty,
  --expect-*, --quiet, --emit-partial (the merged partial result). Not --bundle nor --per-doc.
Cluster options:
  --scheduler ADDRESS   a running Dask scheduler (tcp://host:port); without it, a local cluster
  --workers N           workers of the local cluster (default: the number of cores)
  --shard-size SIZE     bytes of input per shard, whole files (K, M, G suffixes; default 64M)
  --work-dir DIR        where shard partials are kept, on storage every worker sees; a rerun resumes from it
                        (default: ./telltale-cluster-<job id>)
  --telltale PATH       the telltale CLI every worker runs (default: $TELLTALE_CLI, the build tree, or PATH)
"""

# Detect's options that take no value (everything else starting with '-' takes exactly one).
_DETECT_FLAGS = {"--no-dedup", "--self-hash"}
# Detect's options a sharded run cannot honour, with the reason.
_REFUSED = {
    "--bundle": "a signed evidence bundle records every document of one pass; run `telltale detect --bundle`",
    "--signing-key": "a signed evidence bundle records every document of one pass; run `telltale detect --bundle`",
    "--pdf": "a signed evidence bundle records every document of one pass; run `telltale detect --bundle`",
    "--per-doc": "per-document lines are not gathered from the shards; run `telltale detect --per-doc`",
}


class UsageError(Exception):
    pass


@dataclass
class ClusterOptions:
    detect_args: list[str] = field(default_factory=list)  # passed to every shard's `telltale detect`
    inputs: list[str] = field(default_factory=list)
    scheduler: str = ""
    workers: int = 0
    shard_size: int = 64 << 20
    work_dir: str = ""
    telltale: str = ""
    emit_partial: str = ""
    alpha: str = ""
    quiet: bool = False
    allow_empty: bool = False


def _value(argv: list[str], i: int, name: str, inline: str | None) -> tuple[str, int]:
    if inline is not None:
        return inline, i + 1
    if i + 1 >= len(argv):
        raise UsageError(f"{name} needs a value")
    return argv[i + 1], i + 2


def parse(argv: list[str]) -> ClusterOptions:
    o = ClusterOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            o.inputs += argv[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            o.inputs.append(arg)
            i += 1
            continue
        name, eq, inline = arg.partition("=")
        inline_value = inline if eq else None
        if not arg.startswith("--") and len(arg) > 2:  # -kFILE: a short option with its value attached
            name, inline_value = arg[:2], arg[2:]
        if name in ("-h", "--help"):
            raise UsageError("")
        if name in _REFUSED:
            raise UsageError(f"{name} is not available on a cluster: {_REFUSED[name]}")
        if name in ("--quiet", "-q"):
            o.quiet = True
            i += 1
        elif name == "--allow-empty":
            o.allow_empty = True
            i += 1
        elif name == "--skip-bad" or name in _DETECT_FLAGS:
            o.detect_args.append(name)
            i += 1
        elif name in ("--scheduler", "--work-dir", "--telltale", "--emit-partial", "--shard-size", "--workers"):
            value, i = _value(argv, i, name, inline_value)
            if name == "--shard-size":
                try:
                    o.shard_size = parse_size(value)
                except ValueError as e:
                    raise UsageError(f"--shard-size: {e}") from None
            elif name == "--workers":
                if not value.isdigit() or not 1 <= int(value) <= 4096:
                    raise UsageError(f"--workers: '{value}' is not a whole number in 1..4096")
                o.workers = int(value)
            else:
                setattr(o, name[2:].replace("-", "_"), value)
        else:
            value, i = _value(argv, i, name, inline_value)
            if name in ("--alpha", "-a"):
                o.alpha = value
            o.detect_args += [name, value]
    if not o.inputs:
        raise UsageError("no inputs given")
    if o.emit_partial and os.path.lexists(o.emit_partial):
        raise UsageError(f"{o.emit_partial}: already exists (--emit-partial never overwrites a file)")
    return o
