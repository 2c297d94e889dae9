#!/usr/bin/python3
"""Antidistillation bench (issue 25; bench only, not CI: minutes of CPU per student).

The reference model writes stories through `telltale generate` in several configurations: plain, KGW, KGW with
`--antidistill degrade` and with `--antidistill fingerprint` at a few lambda. Then:
  cost   the teacher's cost: perplexity of its outputs under the unperturbed teacher (PyTorch, the reference weights),
         and the watermark's detection on them (`telltale detect`: per-story detection rate at p < 1e-3, and the
         corpus log10 p);
  harm   a student of the reference shape (bench/neural_student.py's trainer, same budget for every student) trained
         on KGW outputs and on degrade outputs: its loss on held-out plain teacher text and on human text (Austen),
         and its gap to the teacher's own loss on the teacher text;
  radio  students trained on a mixture holding a fraction rho of KGW or fingerprint outputs (the rest plain), read
         in open mode on the watermarked stories they saw (`telltale radioactivity score --predictions`).
The degrade proxy is made by tools/antidistill_grad.py from held-out plain teacher stories (other seeds).

  /usr/bin/python3 bench/antidistill.py --telltale build/verify/telltale --work /tmp/ad [--stories 100]
      [--degrade 0.5,1] [--fingerprint 4,8] [--steps 200] [--layers 2] [--rho 0.01,0.02,0.05] [--stages cost,harm,radio]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import neural_student as ns  # noqa: E402  (the student, its trainer and its open reading)
import antidistill_grad as grad  # noqa: E402  (the reference weights in PyTorch)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "shared")


def run(args, *cmd, ok=(0,)):
    r = subprocess.run([args.telltale, *cmd], capture_output=True, text=True)
    if r.returncode not in ok:
        sys.exit("telltale %s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.strip()))
    return r


def generate(args, name, seed, extra, count=None):
    """Stories of one configuration: the JSONL and each story's ids (prompt included)."""
    path = os.path.join(args.work, name + ".jsonl")
    ids_path = os.path.join(args.work, name + ".ids.jsonl")
    if not os.path.exists(ids_path):
        t = time.time()
        out = run(args, "generate", "-m", args.model, "-t", args.tokenizer, "--jsonl", "--count",
                  str(count or args.stories), "--seed", str(seed), "--top-p", "0.95", "-n", "256", *extra).stdout
        with open(path, "w") as f:
            f.write(out)
        run(args, "radioactivity", "predict", "-m", args.model, "-t", args.tokenizer, "-f", "text", "--out", ids_path,
            path)
        print("generated %s in %.0f s" % (name, time.time() - t), flush=True)
    with open(ids_path) as f:
        next(f)
        return [json.loads(line)["ids"] for line in f if line.strip()]


@torch.no_grad()
def mean_loss(model, docs, vocab):
    """Mean next-token loss (nats) of every id after BOS."""
    total, n = 0.0, 0
    for at in range(0, len(docs), 32):
        x = torch.nn.utils.rnn.pad_sequence([torch.tensor([ns.BOS] + d[:511]) for d in docs[at:at + 32]],
                                            batch_first=True, padding_value=-1)
        inp, tgt = x[:, :-1].clamp(min=0), x[:, 1:]
        total += float(F.cross_entropy(model(inp).reshape(-1, vocab), tgt.reshape(-1), ignore_index=-1,
                                       reduction="sum"))
        n += int((tgt >= 0).sum())
    return total / n


def detection(args, name):
    """Per-story detection rate at p < 1e-3 and the corpus log10 p, completions only."""
    path = os.path.join(args.work, name + ".jsonl")
    r = run(args, "detect", "--key", args.key, "-t", args.tokenizer, "--field", "completion", "--per-doc",
            *args.scheme, path, ok=(0, 1))
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    docs, summary = lines[:-1], lines[-1]
    rate = sum(d["log10_p_value"] < -3 for d in docs) / max(1, len(docs))
    return rate, summary["log10_p_value"]


def human_text(args, n=100, chars=1000):
    path = os.path.join(args.work, "human.jsonl")
    ids_path = os.path.join(args.work, "human.ids.jsonl")
    if not os.path.exists(ids_path):
        with open(os.path.join(SHARED, "corpora", "austen_6novels.txt"), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        step = len(text) // (n + 1)
        with open(path, "w") as f:
            for i in range(n):
                f.write(json.dumps({"text": text[(i + 1) * step:(i + 1) * step + chars]}) + "\n")
        run(args, "radioactivity", "predict", "-m", args.model, "-t", args.tokenizer, "-f", "text", "--out", ids_path,
            path)
    with open(ids_path) as f:
        next(f)
        return [json.loads(line)["ids"] for line in f if line.strip()]


def plot_cost(args, rows):
    """OUT/cost.png: each configuration's perplexity cost against its detection strength (the trade-off curve)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for family, marker in (("kgw", "s"), ("degrade", "o"), ("fingerprint", "^")):
        pts = [r for r in rows if r[0].split("_")[0] == family]
        ax.plot([r[1] for r in pts], [-r[2] for r in pts], marker=marker, label=family)
        for name, x, y in pts:
            ax.annotate(name.split("_")[-1] if "_" in name else "", (x, -y), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("teacher perplexity / plain (log scale; labels: lambda)")
    ax.set_ylabel("-log10 p of the %d stories" % args.stories)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.work, "cost.png"), dpi=120)
    print("plot: %s" % os.path.join(args.work, "cost.png"))


def student(args, c, docs, tag):
    t = time.time()
    model, loss = ns.train(c, docs, args.steps, seed=args.train_seed)
    print("student %s: %d docs, train loss %.3f, %.0f s" % (tag, len(docs), loss, time.time() - t), flush=True)
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--telltale", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=os.path.join(SHARED, "models", "stories260K", "stories260K.bin"))
    p.add_argument("--tokenizer", default=os.path.join(SHARED, "models", "stories260K", "tok512.model"))
    p.add_argument("--stories", type=int, default=100, help="stories per configuration (256 ids at most each)")
    p.add_argument("--degrade", default="0.5,1", help="lambda of --antidistill degrade")
    p.add_argument("--fingerprint", default="4,8", help="lambda of --antidistill fingerprint")
    p.add_argument("--eps", default="0.01", help="the gradient tool's eps")
    p.add_argument("--delta", default="2", help="KGW delta (gamma 0.25)")
    p.add_argument("--context-width", default="2")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--layers", type=int, default=2, help="student layers (0: the reference's)")
    p.add_argument("--rho", default="0.01,0.02,0.05")
    p.add_argument("--radio-lambda", type=float, default=0,
                   help="fingerprint lambda of the radio stage (0: the largest)")
    p.add_argument("--train-seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stages", default="cost,harm,radio")
    args = p.parse_args()
    stages = set(args.stages.split(","))
    ns.prepare(args)
    wm = ["--key", args.key, *args.scheme]

    # The proxy's gradient: held-out plain teacher stories (seeds apart from every other set).
    proxy = os.path.join(args.work, "proxy")
    heldg = generate(args, "held_grad", 900000, ["--no-watermark"])
    if not os.path.exists(os.path.join(proxy, "eps.txt")):
        with open(os.path.join(args.work, "held_grad.list.jsonl"), "w") as f:
            for d in heldg:
                f.write(json.dumps(d) + "\n")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "tools", "antidistill_grad.py"), "--model",
                        args.model, "--held-out", os.path.join(args.work, "held_grad.list.jsonl"), "--out", proxy,
                        "--eps", args.eps, "--threads", str(args.threads)], check=True)

    configs = [("plain", ["--no-watermark"]), ("kgw", wm)]
    configs += [("degrade_%s" % l, wm + ["--antidistill", "degrade", "--proxy", proxy, "--lambda", l])
                for l in args.degrade.split(",") if l]
    configs += [("fingerprint_%s" % l, wm + ["--antidistill", "fingerprint", "--proxy", args.model, "--lambda", l])
                for l in args.fingerprint.split(",") if l]
    c, _, _, teacher, _ = grad.load(args.model)
    vocab = c["vocab_size"]
    data = {name: generate(args, name, 1000, extra) for name, extra in configs}

    if "cost" in stages:
        print("\n| configuration | stories / ids | teacher perplexity | x plain | detected at p < 1e-3 "
              "| corpus log10 p |")
        print("|---|---|---|---|---|---|")
        base = None
        rows = []
        for name, _ in configs:
            ppl = math.exp(mean_loss(teacher, data[name], vocab))
            base = base or ppl
            rate, lp = detection(args, name) if name != "plain" else (float("nan"), float("nan"))
            print("| %s | %d / %d | %.3f | %.3f | %.2f | %.1f |" % (name, len(data[name]),
                                                                 sum(len(d) for d in data[name]), ppl, ppl / base,
                                                                 rate, lp), flush=True)
            if name != "plain":
                rows.append((name, ppl / base, lp))
        plot_cost(args, rows)

    if "harm" in stages:
        held = generate(args, "held_eval", 700000, ["--no-watermark"])
        human = human_text(args)
        sc = dict(c)
        if args.layers:
            sc["n_layers"] = args.layers
        t_teacher, t_human = mean_loss(teacher, held, vocab), mean_loss(teacher, human, vocab)
        print("\nteacher: held-out teacher text loss %.4f, human text loss %.4f" % (t_teacher, t_human))
        print("\n| student trained on | held-out teacher text: loss | gap to teacher | gap x (kgw) "
              "| human text: loss |")
        print("|---|---|---|---|---|")
        gap0 = None
        for name, _ in configs:
            if name == "plain" or name.startswith("fingerprint"):
                continue
            s = student(args, sc, data[name], name)
            lt, lh = mean_loss(s, held, vocab), mean_loss(s, human, vocab)
            gap = lt - t_teacher
            gap0 = gap0 or gap
            print("| %s | %.4f | %.4f | %.2f | %.4f |" % (name, lt, gap, gap / gap0, lh), flush=True)

    if "radio" in stages:
        sc = dict(c)
        if args.layers:
            sc["n_layers"] = args.layers
        lam = args.radio_lambda or max(float(x) for x in args.fingerprint.split(","))
        fp = next(n for n, _ in configs if n.startswith("fingerprint") and float(n.split("_")[1]) == lam)
        plain = data["plain"]
        total = sum(len(d) for d in plain)
        print("\n| rho | watermark | W stories in the mix | open (trained W): scored | green | log10 p |")
        print("|---|---|---|---|---|---|")
        for rho in (float(x) for x in args.rho.split(",")):
            for name in ("kgw", fp):
                mix, trained = ns.mixture(data[name], plain, rho, total)
                s = student(args, sc, mix, "%s rho %g" % (name, rho))
                path = os.path.join(args.work, "open_%s_%g.jsonl" % (name, rho))
                ns.write_predictions(path, ns.reads(s, [list(d) for d in data[name][:trained]]), name)
                r = ns.score(args, path)
                print("| %g%% | %s | %d | %d | %.4f | %.2f |" % (rho * 100, name, trained, r["scored_tuples"],
                                                               r["favoured_fraction"], r["log10_p_value"]), flush=True)


if __name__ == "__main__":
    main()
