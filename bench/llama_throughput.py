#!/usr/bin/env python3
"""Throughput of llama.cpp's decode loop with and without the telltale sampler, in one run: the modes alternate round
by round (so machine load hits them alike) and the table gives medians. Per generated token, in the thread's CPU time
(one thread decodes and samples): the decode step (model), the sampler chain, and tokens/s of the two together; the
ratio is to the chain without the sampler (see the comment in main).

usage: bench/llama_throughput.py BUILD_DIR [--model GGUF] [--rounds N] [--tokens N]   (prints a Markdown table)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODES = [("none", "kgw", "temp, top-p, dist"), ("bias", "kgw", "telltale(bias, kgw), temp, top-p, dist"),
         ("choose", "gumbel", "temp, top-p, telltale(choose, gumbel)")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=256)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = os.environ.get("TELLTALE_SHARED_DIR", os.path.join(root, "..", "shared"))
    model = args.model or os.path.join(shared, "models/stories260K/stories260K-v3.gguf")
    telltale = os.path.join(args.build, "verify/telltale")
    generate = os.path.join(args.build, "integrations/llama.cpp/telltale_llama_generate")
    runs = {mode: [] for mode, _, _ in MODES}
    with tempfile.TemporaryDirectory() as work:
        key = os.path.join(work, "wm.key")
        subprocess.run([telltale, "keygen", "--out", key], check=True, capture_output=True)
        for r in range(args.rounds):
            for mode, scheme, _ in MODES:
                cmd = [generate, "--model", model, "--mode", mode, "--scheme", scheme, "--seed", str(r + 1),
                       "--tokens", str(args.tokens), "--bench"]
                if mode != "none":
                    cmd += ["--key", key]
                err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
                runs[mode].append(json.loads(err.strip().splitlines()[-1]))
    # The decode step does not depend on the sampler (same model, same positions), but on a busy machine its time (and
    # the chain's) varies between runs by more than the sampler costs. So the ratio is (decode + chain without the
    # sampler) / (the same + the telltale member's time in its chain), with the decode median pooled over every run;
    # the measured tokens/s of each mode are given too. (In choose mode the member also does dist's work, which the
    # ratio charges to it.)
    pooled = statistics.median(x["decode_us_per_token"] for mode, _, _ in MODES for x in runs[mode])
    chain_none = statistics.median(x["chain_us_per_token"] for x in runs["none"])
    print(f"model {os.path.basename(model)}, {args.tokens} tokens, {args.rounds} alternating rounds, medians; "
          f"1 thread, CPU time; decode median over all runs {pooled:.1f} us/token\n")
    print("| chain | decode us/token | chain us/token | telltale member us/token | tokens/s (measured) "
          "| ratio to no sampler |")
    print("|---|---|---|---|---|---|")
    for mode, _, chain in MODES:
        dec = statistics.median(x["decode_us_per_token"] for x in runs[mode])
        smp = statistics.median(x["chain_us_per_token"] for x in runs[mode])
        member = statistics.median(x["sampler_us_per_token"] for x in runs[mode])
        tps = statistics.median(1e6 / (x["decode_us_per_token"] + x["chain_us_per_token"]) for x in runs[mode])
        ratio = (pooled + chain_none) / (pooled + chain_none + member)
        print(f"| {chain} | {dec:.1f} | {smp:.2f} | {member:.2f} | {tps:.1f} | {ratio:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
