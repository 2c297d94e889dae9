"""``python3 -m telltale.cluster detect ...``: `telltale detect` on a Dask cluster (see telltale.cluster).
Exit 0 detected, 1 not detected, 2 error (one line on stderr)."""

import sys

from telltale.cluster.job import JobError, run_detect
from telltale.cluster.options import USAGE, UsageError, parse


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    if argv[0] != "detect":
        print(f"telltale.cluster: error: unknown command '{argv[0]}' (expected detect)", file=sys.stderr)
        return 2
    try:
        return run_detect(parse(argv[1:]))
    except UsageError as e:
        if not str(e):
            print(USAGE, end="")
            return 0
        print(f"telltale.cluster: error: {e}", file=sys.stderr)
        return 2
    except JobError as e:
        print(f"telltale.cluster: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("telltale.cluster: interrupted; a rerun resumes from the partials written", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
