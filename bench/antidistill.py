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
The degrade proxy is made by tools/antidistill_grad.py from held-out plain teacher stories (other seeds): the
teacher's own weights, and with --proxy-student N also a student-like proxy (configurations "degrade-studentN_L"):
a student of the harm stage's shape trained N steps on plain teacher stories of their own seed, written as a
llama2.c .bin, its gradient taken on the same held-out stories.
Each student is also read at --checkpoints points of its schedule (held-out losses, and the open reading of the
watermarked stories it trained on), which shows how far its training budget is from learning the teacher. Stories are
generated once per configuration and kept in --work; each student's readings are kept in WORK/students.json, so a
stage run again trains only the students it has not seen (the key holds the name, layers, steps, seed and stories).
Plots: WORK/cost.png, WORK/harm.png (held-out loss and the open reading against the training step), WORK/radio.png.

  /usr/bin/python3 bench/antidistill.py --telltale build/verify/telltale --work /tmp/ad [--stories 100]
      [--degrade 0.5,1] [--fingerprint 4,8] [--steps 200] [--layers 2] [--rho 0.01,0.02,0.05] [--stages cost,harm,radio]
      [--checkpoints 4] [--kgw-seeds 7,8] [--proxy-student 500 --degrade-student 0.03,0.1]
"""
import argparse
import json
import math
import os
import struct
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

# The shared models and corpora: ../shared beside the checkout, or TELLTALE_SHARED_DIR (a worktree elsewhere).
SHARED = os.environ.get("TELLTALE_SHARED_DIR") or os.path.join(HERE, "..", "..", "shared")


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
    for family, marker in (("kgw", "s"), ("degrade", "o"), ("degrade-student%d" % args.proxy_student, "v"),
                           ("fingerprint", "^")):
        pts = [r for r in rows if r[0].split("_")[0] == family]
        if not pts:
            continue
        ax.plot([r[1] for r in pts], [-r[2] for r in pts], marker=marker, label=family)
        for name, x, y in pts:
            ax.annotate(name.split("_")[-1] if "_" in name else "", (x, -y), fontsize=7)
    xs = [r[1] for r in rows]
    wide = max(xs) / min(xs) > 3  # a log axis over a narrow range prints only overlapping minor labels
    if wide:
        ax.set_xscale("log")
    ax.set_xlabel("teacher perplexity / plain (%slabels: lambda)" % ("log scale; " if wide else ""))
    ax.set_ylabel("-log10 p of the %d stories" % args.stories)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.work, "cost.png"), dpi=120)
    print("plot: %s" % os.path.join(args.work, "cost.png"))


class Stories(dict):
    """Each configuration's stories, generated on first use (a stage that does not need one does not make it)."""

    def __init__(self, args, configs):
        super().__init__()
        self.args, self.configs = args, dict(configs)

    def __missing__(self, name):
        self[name] = generate(self.args, name, 1000, self.configs[name])
        return self[name]


def write_llama2c(model, c, reference, path):
    """A student as a llama2.c .bin that the runner loads as a proxy: its header (shared classifier) and weights in
    the runner's order; the legacy freq_cis tables are the reference's (they depend only on the head size and
    seq_len, which the student shares)."""
    _, _, flat, _, _ = grad.load(reference)
    params = dict(model.named_parameters())
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("7i", c["dim"], c["hidden_dim"], c["n_layers"], c["n_heads"], c["n_kv_heads"],
                            c["vocab_size"], c["seq_len"]))
        for name, shape in grad.tensor_layout(c):
            if name is None:
                f.write(flat[flat.numel() - shape[0]:].numpy().tobytes())
            else:
                f.write(params[name].detach().reshape(-1).contiguous().numpy().tobytes())
    os.replace(path + ".tmp", path)


def student_proxy(args, c, heldg):
    """The degrade proxy as Savani et al. use it: a student-like model, not the teacher. A student of the harm
    stage's shape trained --proxy-student steps on plain teacher stories of their own seed (a distiller's model part
    way through its training), written as a llama2.c .bin; its gradient on the held-out stories, as for the teacher
    proxy. Returns the proxy directory."""
    out = os.path.join(args.work, "proxy_student_%d" % args.proxy_student)
    if os.path.exists(os.path.join(out, "eps.txt")):
        return out
    sc = student_config(args, c)
    docs = generate(args, "proxy_train", 800000, ["--no-watermark"])
    t = time.time()
    model, loss = ns.train(sc, docs, args.proxy_student, seed=99)
    os.makedirs(out, exist_ok=True)
    weights = os.path.join(out, "student.bin")
    write_llama2c(model, sc, args.model, weights)
    print("proxy student: %d layers, %d steps on %d plain stories, loss %.3f (%.0f s)" % (
        sc["n_layers"], args.proxy_student, len(docs), loss, time.time() - t), flush=True)
    with open(os.path.join(args.work, "held_grad.list.jsonl"), "w") as f:
        for d in heldg:
            f.write(json.dumps(d) + "\n")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "tools", "antidistill_grad.py"), "--model", weights,
                    "--held-out", os.path.join(args.work, "held_grad.list.jsonl"), "--out", out, "--eps", args.eps,
                    "--threads", str(args.threads)], check=True)
    return out


def open_reading(args, model, docs, path, tag):
    """The student's top-1 reading of `docs` (open mode), scored with the teacher's key."""
    ns.write_predictions(path, ns.reads(model, [list(d) for d in docs], top_k=1), tag)
    r = ns.score(args, path)
    return dict(scored=r["scored_tuples"], green=r["favoured_fraction"], log10_p=r["log10_p_value"])


def student(args, sc, docs, tag, seed, evaluate):
    """Trains one student (or finds its readings in WORK/students.json) and returns its readings at each checkpoint:
    evaluate(model) plus the step and the last batch's loss."""
    path = os.path.join(args.work, "students.json")
    cache = json.load(open(path)) if os.path.exists(path) else {}
    key = "%s|layers %d|steps %d|seed %d|stories %d" % (tag, sc["n_layers"], args.steps, seed, args.stories)
    if key in cache:
        return cache[key]
    marks = {max(1, round(args.steps * k / args.checkpoints)) for k in range(1, args.checkpoints + 1)}
    curve = []
    t = time.time()

    def on_step(step, model, loss):
        if step in marks:
            row = dict(step=step, train_loss=loss, **evaluate(model))
            curve.append(row)
            print("  %s seed %d step %d (%.0f s): %s" % (tag, seed, step, time.time() - t,
                                                         json.dumps(row)), flush=True)

    ns.train(sc, docs, args.steps, seed=seed, on_step=on_step)
    cache = json.load(open(path)) if os.path.exists(path) else {}
    cache[key] = curve
    with open(path + ".tmp", "w") as f:
        json.dump(cache, f, indent=1)
    os.replace(path + ".tmp", path)
    return curve


def student_config(args, c):
    sc = dict(c)
    if args.layers:
        sc["n_layers"] = args.layers
    return sc


def plot_harm(args, curves, t_teacher):
    """WORK/harm.png: each student's held-out loss on plain teacher text, and -log10 p of its open reading of the
    stories it trained on, against the training step."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for label, curve in curves.items():
        steps = [r["step"] for r in curve]
        a.plot(steps, [r["held_loss"] for r in curve], marker="o", label=label)
        b.plot(steps, [-r["log10_p"] for r in curve], marker="o", label=label)
    a.axhline(t_teacher, color="grey", linestyle=":", label="teacher itself")
    a.set_xlabel("training step (16 x 256 ids)")
    a.set_ylabel("held-out plain teacher text: loss (nats/id)")
    a.legend(fontsize=7)
    b.axhline(5, color="grey", linestyle=":")
    b.set_xlabel("training step (16 x 256 ids)")
    b.set_ylabel("-log10 p, open reading of its training stories")
    if max(-r["log10_p"] for curve in curves.values() for r in curve) > 50:
        b.set_yscale("symlog", linthresh=10)
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.work, "harm.png"), dpi=120)
    print("plot: %s" % os.path.join(args.work, "harm.png"))


def plot_radio(args):
    """WORK/radio.png: -log10 p of the students' open reading against rho, one curve per watermark and training seed,
    from every radio student of this budget in WORK/students.json (so runs of one rho or one seed each add up)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cache = json.load(open(os.path.join(args.work, "students.json")))
    lines = {}
    for key, curve in cache.items():
        tag, layers, steps, seed, stories = key.split("|")
        if " rho " not in tag or steps != "steps %d" % args.steps or stories != "stories %d" % args.stories:
            continue
        name, rho = tag.split(" rho ")
        lines.setdefault("%s, %s" % (name, seed), []).append((float(rho), curve[-1]["log10_p"]))
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, pts in sorted(lines.items()):
        pts.sort()
        ax.plot([x * 100 for x, _ in pts], [-y for _, y in pts], marker="o", label=name)
    ax.axhline(9, color="grey", linestyle=":", label="goal: p < 1e-9")
    ax.set_xscale("log")
    ticks = sorted({x * 100 for pts in lines.values() for x, _ in pts})
    ax.minorticks_off()
    ax.set_xticks(ticks, ["%g" % x for x in ticks])  # the rho measured, not a log axis's minor labels
    ax.set_xlabel("rho: watermarked share of the student's training ids (%)")
    ax.set_ylabel("-log10 p, open reading of the W it saw")
    ax.set_title("%d-step students" % args.steps, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.work, "radio.png"), dpi=120)
    print("plot: %s" % os.path.join(args.work, "radio.png"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--telltale", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=os.path.join(SHARED, "models", "stories260K", "stories260K.bin"))
    p.add_argument("--tokenizer", default=os.path.join(SHARED, "models", "stories260K", "tok512.model"))
    p.add_argument("--stories", type=int, default=100, help="stories per configuration (256 ids at most each)")
    p.add_argument("--held", type=int, default=100,
                   help="held-out plain stories: for the degrade proxy's gradient, and for the students' loss")
    p.add_argument("--degrade", default="0.5,1", help="lambda of --antidistill degrade")
    p.add_argument("--fingerprint", default="4,8", help="lambda of --antidistill fingerprint")
    p.add_argument("--eps", default="0.01", help="the gradient tool's eps")
    p.add_argument("--proxy-student", type=int, default=0,
                   help="also degrade with a student-like proxy: a student trained this many steps on plain teacher "
                        "stories (0: only the teacher as proxy)")
    p.add_argument("--degrade-student", default="0.03,0.1", help="lambda of degrade with the student-like proxy")
    p.add_argument("--delta", default="2", help="KGW delta (gamma 0.25)")
    p.add_argument("--context-width", default="2")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--layers", type=int, default=2, help="student layers (0: the reference's)")
    p.add_argument("--rho", default="0.01,0.02,0.05")
    p.add_argument("--radio-lambda", type=float, default=0,
                   help="fingerprint lambda of the radio stage (0: the largest)")
    p.add_argument("--train-seed", type=int, default=7)
    p.add_argument("--kgw-seeds", default="", help="further training seeds of the KGW student (harm), for the noise")
    p.add_argument("--harm-students", default="",
                   help="harm: train only these students (NAME:SEED,...) and print no table; a later run without it "
                        "reads them from WORK/students.json")
    p.add_argument("--checkpoints", type=int, default=4, help="readings of each student along its schedule")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stages", default="cost,harm,radio")
    args = p.parse_args()
    stages = set(args.stages.split(","))
    if args.harm_students and stages != {"harm"}:
        p.error("--harm-students goes with --stages harm alone")
    ns.prepare(args)
    wm = ["--key", args.key, *args.scheme]

    # The proxy's gradient: held-out plain teacher stories (seeds apart from every other set).
    proxy = os.path.join(args.work, "proxy")
    heldg = generate(args, "held_grad", 900000, ["--no-watermark"], args.held)
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
    if args.proxy_student:
        c0 = ns.reference_config(args.model)
        sproxy = student_proxy(args, c0, heldg)
        configs += [("degrade-student%d_%s" % (args.proxy_student, l),
                     wm + ["--antidistill", "degrade", "--proxy", sproxy, "--lambda", l])
                    for l in args.degrade_student.split(",") if l]
    configs += [("fingerprint_%s" % l, wm + ["--antidistill", "fingerprint", "--proxy", args.model, "--lambda", l])
                for l in args.fingerprint.split(",") if l]
    c, _, _, teacher, _ = grad.load(args.model)
    vocab = c["vocab_size"]
    data = Stories(args, configs)

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
        held = generate(args, "held_eval", 700000, ["--no-watermark"], args.held)
        human = human_text(args)
        sc = student_config(args, c)
        t_teacher, t_human = mean_loss(teacher, held, vocab), mean_loss(teacher, human, vocab)
        print("\nteacher: held-out teacher text loss %.4f, human text loss %.4f" % (t_teacher, t_human))
        print("student: %s, %d steps of 16 x 256 ids" % (sc, args.steps), flush=True)
        runs = [("kgw", args.train_seed)] + [("kgw", int(x)) for x in args.kgw_seeds.split(",") if x]
        runs += [(name, args.train_seed) for name, _ in configs if name.startswith("degrade")]
        if args.harm_students:  # a subset, e.g. to train two students in two processes; the table comes later
            runs = [(x.rsplit(":", 1)[0], int(x.rsplit(":", 1)[1])) for x in args.harm_students.split(",")]
        curves = {}
        for name, seed in runs:
            def evaluate(model, name=name, seed=seed):
                return dict(held_loss=mean_loss(model, held, vocab), human_loss=mean_loss(model, human, vocab),
                            **open_reading(args, model, data[name],
                                           os.path.join(args.work, "harm_%s_s%d.jsonl" % (name, seed)), name))
            curves["%s seed %d" % (name, seed)] = student(args, sc, data[name], name, seed, evaluate)
        print("\n| student trained on | seed | train loss | held-out teacher text: loss | gap to teacher "
              "| gap / KGW student's gap | human text: loss | open reading of its stories: scored | green | log10 p |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        if args.harm_students:
            print("\ntrained %s; run the harm stage without --harm-students for the table (from the cache)" % (
                ", ".join(curves)))
            return
        gap0 = curves["kgw seed %d" % args.train_seed][-1]["held_loss"] - t_teacher
        for label, curve in curves.items():
            r = curve[-1]
            gap = r["held_loss"] - t_teacher
            print("| %s | %s | %.3f | %.4f | %.4f | %.2f | %.4f | %d | %.4f | %.2f |" % (
                label.split(" seed ")[0], label.split(" seed ")[1], r["train_loss"], r["held_loss"], gap, gap / gap0,
                r["human_loss"], r["scored"], r["green"], r["log10_p"]))
        print("\nalong the schedule (step: held-out loss / open log10 p):")
        for label, curve in curves.items():
            print("  %s: %s" % (label, ", ".join("%d: %.3f / %.2f" % (r["step"], r["held_loss"], r["log10_p"])
                                                   for r in curve)))
        plot_harm(args, curves, t_teacher)

    if "radio" in stages:
        sc = student_config(args, c)
        lam = args.radio_lambda or max(float(x) for x in args.fingerprint.split(","))
        fp = next(n for n, _ in configs if n.startswith("fingerprint") and float(n.split("_")[1]) == lam)
        plain = data["plain"]
        total = sum(len(d) for d in plain)
        print("student: %s, %d steps of 16 x 256 ids" % (sc, args.steps), flush=True)
        lines = []
        for rho in (float(x) for x in args.rho.split(",")):
            for name in ("kgw", fp):
                mix, trained = ns.mixture(data[name], plain, rho, total)
                path = os.path.join(args.work, "open_%s_%g.jsonl" % (name, rho))
                curve = student(args, sc, mix, "%s rho %g" % (name, rho), args.train_seed,
                                lambda model, name=name, trained=trained, path=path:
                                open_reading(args, model, data[name][:trained], path, name))
                r = curve[-1]
                lines.append("| %g%% | %s | %d | %.3f | %d | %.4f | %.2f | %s |" % (
                    rho * 100, name, trained, r["train_loss"], r["scored"], r["green"], r["log10_p"],
                    ", ".join("%d: %.2f" % (x["step"], x["log10_p"]) for x in curve)))
        print("\n| rho | watermark | W stories in the mix | train loss | open (trained W): scored | green | log10 p "
              "| log10 p along the schedule |")
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(lines))
        plot_radio(args)


if __name__ == "__main__":
    main()
