#!/usr/bin/env python3
"""Where the telltale sampler goes in a llama.cpp chain, decided by measurement: detection power of each scheme and
mode at equal temperature and top-p, in llama.cpp's own decode loop (telltale_llama_generate) on the reference model.

usage: bench/llama_chain_order.py BUILD_DIR [--seeds N] [--tokens N]   (prints a Markdown table)
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

CONFIGS = [  # (scheme, mode, order, what the chain is)
    ("kgw", "bias", "first", "telltale(bias), temp, top-p, dist"),
    ("kgw", "bias", "before-dist", "temp, top-p, telltale(bias), dist"),
    ("kgw", "choose", "first", "temp, top-p, telltale(choose)"),
    ("tournament", "bias", "first", "telltale(bias), temp, top-p, dist"),
    ("tournament", "bias", "before-dist", "temp, top-p, telltale(bias), dist"),
    ("tournament", "choose", "first", "temp, top-p, telltale(choose)"),
    ("gumbel", "choose", "first", "temp, top-p, telltale(choose)"),
    ("kgw", "none", "first", "temp, top-p, dist (control)"),
]


def log10_p(telltale, key, tokenizer, scheme, path):
    # exit 0: detected, 1: not detected (verify/cli/exit_codes.hpp), 2: error
    run = subprocess.run([telltale, "detect", "--key", key, "--tokenizer", tokenizer, "--scheme", scheme, path],
                         capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"llama_chain_order: telltale detect failed: {run.stderr.strip()}")
    return json.loads(run.stdout)["log10_p_value"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--temp", type=float, default=0.8)
    ap.add_argument("--top-p", type=float, default=0.95)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = os.environ.get("TELLTALE_SHARED_DIR", os.path.join(root, "..", "shared"))
    model = os.path.join(shared, "models/stories260K/stories260K-v3.gguf")
    tokenizer = os.path.join(shared, "models/stories260K/tok512.model")
    telltale = os.path.join(args.build, "verify/telltale")
    generate = os.path.join(args.build, "integrations/llama.cpp/telltale_llama_generate")
    with tempfile.TemporaryDirectory() as work:
        key = os.path.join(work, "wm.key")
        subprocess.run([telltale, "keygen", "--out", key], check=True, capture_output=True)
        print(f"{args.seeds} seeds x {args.tokens} tokens, temperature {args.temp}, top-p {args.top_p}; "
              "detected = p < 1e-3\n")
        print("| scheme | mode | chain | median log10 p | worst log10 p | detected |")
        print("|---|---|---|---|---|---|")
        for scheme, mode, order, chain in CONFIGS:
            ps = []
            for seed in range(1, args.seeds + 1):
                path = os.path.join(work, "out.txt")
                cmd = [generate, "--model", model, "--mode", mode, "--scheme", scheme, "--order", order,
                       "--seed", str(seed), "--tokens", str(args.tokens), "--temp", str(args.temp),
                       "--top-p", str(args.top_p)]
                if mode != "none":
                    cmd += ["--key", key]
                with open(path, "w") as f:
                    subprocess.run(cmd, check=True, stdout=f)
                ps.append(log10_p(telltale, key, tokenizer, scheme, path))
            hits = sum(p < math.log10(1e-3) for p in ps)
            print(f"| {scheme} | {mode} | {chain} | {statistics.median(ps):.1f} | {max(ps):.1f} | "
                  f"{hits}/{len(ps)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
