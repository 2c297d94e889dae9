#!/usr/bin/python3
"""Neural student for the radioactivity bench (issue 6; bench only, not CI: minutes of CPU per rho).

The reference model writes KGW-watermarked stories W and plain stories U through `telltale generate`; a model of the
reference architecture (llama2.c: RMSNorm, RoPE, grouped-query attention, SwiGLU, shared classifier; shape read from
the reference .bin header) is trained from scratch with PyTorch (Debian's python3-torch, CPU) on a mixture holding a
fraction rho of W; then telltale tests it:
  open   its top-1 predictions on W, written as a predictions file (spec/predictions-format.md) and scored by
         `telltale radioactivity score --predictions`: on all of W, and on the W stories in its mixture only (the
         owner knows which outputs leaked);
  closed its sampled continuations of 8-id prompts cut from W, written as predictions records whose choices are the
         emitted ids, scored with the teacher filter (`telltale radioactivity filter`, then `score --filter`).
Tokenization goes through telltale too (`radioactivity predict` writes each story's ids), so no SentencePiece binding
is needed in Python.

  /usr/bin/python3 bench/neural_student.py --telltale build/verify/telltale --work /tmp/neural \
      [--stories 200] [--rho 0,0.05,0.5,1] [--steps 300] [--threads 2] [--layers N] [--train-seed S] [--control-keys N]
"""
import argparse
import ctypes
import json
import math
import os
import struct
import subprocess
import sys
import time

# Debian's torch calls the system BLAS; with libopenblas0-pthread installed (scripts/setup) that is OpenBLAS, whose
# threads only get in the way at these matrix sizes.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402

# Every activation here is tens of MB: glibc serves each from a fresh mmap and unmaps it when freed, and the page faults
# of touching new pages cost more than the arithmetic (1.27 s per training step against 0.32 s with this). Keep freed
# memory in the heap instead: no mmap for large blocks, no trimming.
try:
    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallopt(-4, 0)          # M_MMAP_MAX
    _libc.mallopt(-1, 1 << 30)    # M_TRIM_THRESHOLD
except OSError:
    pass
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_ROOT = os.environ.get("TELLTALE_SHARED_DIR") or os.path.join(HERE, "..", "..", "shared")
SHARED = os.path.join(SHARED_ROOT, "models", "stories260K")
BOS = 1


def telltale(args, *cmd, ok=(0,)):
    r = subprocess.run([args.telltale, *cmd], capture_output=True, text=True)
    if r.returncode not in ok:
        sys.exit("telltale %s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.strip()))
    return r


def stories(args, name, seed, key):
    """Generates `args.stories` stories (prompt included in "text") and returns their token ids."""
    path = os.path.join(args.work, name + ".jsonl")
    ids_path = os.path.join(args.work, name + ".ids.jsonl")
    if not os.path.exists(ids_path):
        gen = ["generate", "-m", args.model, "-t", args.tokenizer, "--jsonl", "--count", str(args.stories),
               "--seed", str(seed), "--top-p", "0.95", "-n", "256"]
        gen += ["--key", key, *args.scheme] if key else ["--no-watermark"]
        with open(path, "w") as f:
            f.write(telltale(args, *gen).stdout)
        telltale(args, "radioactivity", "predict", "-m", args.model, "-t", args.tokenizer, "-f", "text",
                 "--out", ids_path, path)
    with open(ids_path) as f:
        next(f)
        return [json.loads(line)["ids"] for line in f if line.strip()]


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        hs = c["dim"] // c["n_heads"]
        self.attention_norm, self.ffn_norm = RMSNorm(c["dim"]), RMSNorm(c["dim"])
        self.wq = nn.Linear(c["dim"], c["n_heads"] * hs, bias=False)
        self.wk = nn.Linear(c["dim"], c["n_kv_heads"] * hs, bias=False)
        self.wv = nn.Linear(c["dim"], c["n_kv_heads"] * hs, bias=False)
        self.wo = nn.Linear(c["n_heads"] * hs, c["dim"], bias=False)
        self.w1 = nn.Linear(c["dim"], c["hidden_dim"], bias=False)
        self.w2 = nn.Linear(c["hidden_dim"], c["dim"], bias=False)
        self.w3 = nn.Linear(c["dim"], c["hidden_dim"], bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        c = self.c
        hs = c["dim"] // c["n_heads"]
        h = self.attention_norm(x)
        q = self.wq(h).view(b, t, c["n_heads"], hs)
        k = self.wk(h).view(b, t, c["n_kv_heads"], hs)
        v = self.wv(h).view(b, t, c["n_kv_heads"], hs)

        def rope(z):  # llama2.c's rotation of consecutive pairs
            z2 = z.float().reshape(*z.shape[:-1], -1, 2)
            re, im = z2[..., 0], z2[..., 1]
            return torch.stack((re * cos - im * sin, re * sin + im * cos), -1).flatten(3)

        q, k = rope(q), rope(k)
        # Attention as flat batched matmuls over (batch x head): k and v are repeated per query head (small: hs is 8),
        # the causal mask goes in through baddbmm. Debian's CPU torch is slow per element, and broadcast matmuls
        # over 5-d views were slower than this.
        rep = c["n_heads"] // c["n_kv_heads"]
        k, v = k.repeat_interleave(rep, 2), v.repeat_interleave(rep, 2)
        q = (q * (1.0 / math.sqrt(hs))).permute(0, 2, 1, 3).reshape(b * c["n_heads"], t, hs)
        k = k.permute(0, 2, 3, 1).reshape(b * c["n_heads"], hs, t)
        v = v.permute(0, 2, 1, 3).reshape(b * c["n_heads"], t, hs)
        att = torch.baddbmm(mask, q, k).softmax(-1)
        y = torch.bmm(att, v).view(b, c["n_heads"], t, hs).permute(0, 2, 1, 3).reshape(b, t, -1)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Student(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok = nn.Embedding(c["vocab_size"], c["dim"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["n_layers"]))
        self.norm = RMSNorm(c["dim"])
        hs = c["dim"] // c["n_heads"]
        freqs = 1.0 / (10000.0 ** (torch.arange(0, hs, 2).float() / hs))
        ang = torch.outer(torch.arange(c["seq_len"]).float(), freqs)
        self.register_buffer("cos", ang.cos()[None, :, None, :], persistent=False)
        self.register_buffer("sin", ang.sin()[None, :, None, :], persistent=False)
        causal = torch.full((c["seq_len"], c["seq_len"]), float("-inf")).triu(1)
        self.register_buffer("mask", causal, persistent=False)
        # llama2.c's initialisation: N(0, 0.02), the residual projections scaled down by sqrt(2 n_layers).
        for name, w in self.named_parameters():
            if name.endswith(("wo.weight", "w3.weight")):
                nn.init.normal_(w, 0.0, 0.02 / math.sqrt(2 * c["n_layers"]))
            elif w.dim() == 2:
                nn.init.normal_(w, 0.0, 0.02)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx)
        for layer in self.layers:
            x = layer(x, self.cos[:, :t], self.sin[:, :t], self.mask[:t, :t])
        return self.norm(x) @ self.tok.weight.T  # shared classifier


def reference_config(path):
    with open(path, "rb") as f:
        dim, hidden, layers, heads, kv, vocab, seq = struct.unpack("7i", f.read(28))
    return dict(dim=dim, hidden_dim=hidden, n_layers=layers, n_heads=heads, n_kv_heads=kv, vocab_size=abs(vocab),
                seq_len=seq)


def train(c, docs, steps, seed, block=256, batch=16, on_step=None):
    """Trains a fresh student; `on_step(step, model, loss)`, if given, is called after each step (1-based), e.g. to
    read the student at checkpoints of its schedule."""
    torch.manual_seed(seed)
    model = Student(c)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    seqs = [torch.tensor([BOS] + d[: block]) for d in docs if len(d) > 1]
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        lr = 3e-3 * min(1.0, (step + 1) / 30) * (0.1 + 0.9 * (1 + math.cos(math.pi * step / steps)) / 2)
        for group in opt.param_groups:
            group["lr"] = lr
        pick = torch.randint(len(seqs), (batch,), generator=g)
        x = nn.utils.rnn.pad_sequence([seqs[i] for i in pick], batch_first=True, padding_value=-1)
        inp, tgt = x[:, :-1].clamp(min=0), x[:, 1:]
        loss = F.cross_entropy(model(inp).reshape(-1, c["vocab_size"]), tgt.reshape(-1), ignore_index=-1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step:
            on_step(step + 1, model, float(loss))
    return model, float(loss)


def mixture(wm, plain, rho, total):
    """Whole watermarked stories up to rho of `total` ids, then plain ones up to total; and how many are watermarked."""
    mix, n = [], 0
    for d in wm:
        if n >= rho * total:
            break
        mix.append(d)
        n += len(d)
    trained = len(mix)
    for d in plain:
        if n >= total:
            break
        mix.append(d)
        n += len(d)
    return mix, trained


def write_predictions(path, records, suspect):
    with open(path, "w") as f:
        f.write(json.dumps({"telltale": "predictions", "version": 1, "vocab_size": 512, "suspect": suspect}) + "\n")
        for r in records:
            f.write(json.dumps(r) + "\n")


@torch.no_grad()
def reads(model, docs, batch=32, top_k=20):
    """The top_k predictions and their log-probabilities at every position of every doc, most likely first, in padded
    batches (causal: padding on the right is unseen). The top-1 score reads the first id; the probability score all
    of them (the mass beyond top_k counts as zero)."""
    out = []
    for at in range(0, len(docs), batch):
        chunk = docs[at:at + batch]
        x = nn.utils.rnn.pad_sequence([torch.tensor([BOS] + d) for d in chunk], batch_first=True, padding_value=0)
        lp, top = model(x).log_softmax(-1).topk(top_k, -1)
        for row, d in enumerate(chunk):
            out.append({"ids": d, "positions": list(range(1, len(d) + 1)),
                        "predicted": top[row, 1:len(d) + 1].tolist(),
                        "logprobs": [[min(0.0, v) for v in r] for r in lp[row, 1:len(d) + 1].tolist()]})
    return out


@torch.no_grad()
def answers(model, docs, prompt_len=8, answer_len=128, seed=1):
    """Sampled continuations of each doc's first prompt_len ids, all docs as one batch."""
    g = torch.Generator().manual_seed(seed)
    x = torch.tensor([[BOS] + d[:prompt_len] for d in docs])
    for _ in range(answer_len):
        probs = model(x)[:, -1].softmax(-1)
        x = torch.cat([x, torch.multinomial(probs, 1, generator=g)], 1)
    out = []
    for row in x.tolist():
        ids = row[1:]
        out.append({"ids": ids, "positions": list(range(prompt_len, len(ids))),
                    "predicted": [[i] for i in ids[prompt_len:]]})
    return out


def score(args, preds, extra=(), key=None):
    r = telltale(args, "radioactivity", "score", "-k", key or args.key, "-t", args.tokenizer, "--predictions", preds,
                 *args.scheme, *extra, ok=(0, 1))
    return json.loads(r.stdout)


def binomial_upper(n, p, alpha=1e-3):
    """The smallest k with P(Binomial(n, p) > k) <= alpha: more than k false positives is a failed control."""
    cdf = 0.0
    for k in range(n + 1):
        cdf += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        if cdf >= 1 - alpha:
            return k
    return n


def control(args, rho, readings):
    """Scores each full reading with args.control_keys unrelated keys: the same student read by an owner whose key it
    never saw, which is distributed as a student trained on another key's data read with ours. Under the null every
    p-value is uniform (conservative: KGW's is discrete), so at most the binomial bound may fall at or below 0.05 and
    0.01."""
    keys = []
    for i in range(args.control_keys):
        path = os.path.join(args.work, "control-keys", "k%d.key" % i)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            telltale(args, "keygen", "--out", path)
        keys.append(path)
    n = len(keys)
    cells = []
    for name, (path, extra) in readings.items():
        ps = [score(args, path, extra, key)["p_value"] for key in keys]
        cells.append("%s: %d at p <= 0.05 (bound %d), %d at p <= 0.01 (bound %d), smallest %.3g" % (
            name, sum(p <= 0.05 for p in ps), binomial_upper(n, 0.05), sum(p <= 0.01 for p in ps),
            binomial_upper(n, 0.01), min(ps)))
    print("control rho=%g, %d unrelated keys: %s" % (rho, n, "; ".join(cells)), flush=True)


def prepare(args):
    """The teacher's KGW flags (gamma 0.25, args.delta, args.context_width), torch's threads, the work directory and
    its key (made once)."""
    args.scheme = ["--scheme", "kgw", "--gamma", "0.25", "--delta", args.delta, "--context-width", args.context_width]
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    args.key = os.path.join(args.work, "k.key")
    if not os.path.exists(args.key):
        telltale(args, "keygen", "--out", args.key)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--telltale", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=os.path.join(SHARED, "stories260K.bin"))
    p.add_argument("--tokenizer", default=os.path.join(SHARED, "tok512.model"))
    p.add_argument("--stories", type=int, default=200)
    p.add_argument("--rho", default="0,0.05,0.5,1")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", type=int, default=0, help="student layers (0: as many as the reference model)")
    p.add_argument("--delta", default="2", help="KGW logit bias of the teacher (gamma is 0.25)")
    p.add_argument("--context-width", default="4", help="KGW context width h of the teacher")
    p.add_argument("--closed-prompts", type=int, default=100, help="W stories whose first 8 ids prompt closed mode")
    p.add_argument("--train-seed", type=int, default=7, help="seeds the student's initialisation and batches")
    p.add_argument("--control-keys", type=int, default=0,
                   help="also score each student's full readings with this many unrelated keys (null control)")
    args = p.parse_args()
    prepare(args)
    t0 = time.time()
    wm = stories(args, "wm", 1000, args.key)
    plain = stories(args, "plain", 500000, None)
    total = sum(len(d) for d in wm)
    print("W %d stories / %d ids, U %d stories / %d ids (%.0f s)" % (len(wm), total, len(plain),
                                                                      sum(len(d) for d in plain), time.time() - t0))
    tfilter = os.path.join(args.work, "teacher.ttcf")
    if not os.path.exists(tfilter):
        telltale(args, "radioactivity", "filter", "-t", args.tokenizer, "-f", "text", "--out", tfilter,
                 "--context-width", args.context_width, os.path.join(args.work, "wm.jsonl"))
    c = reference_config(args.model)
    if args.layers:
        c["n_layers"] = args.layers
    print("student: %s, %d steps of 16 x 256 ids" % (c, args.steps))
    print("\n| rho | train loss | open (all W): scored | green | log10 p | open (trained W): scored | green | log10 p "
          "| closed: scored | green | log10 p | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    suffix = "" if args.train_seed == 7 else "_s%d" % args.train_seed
    for rho in (float(x) for x in args.rho.split(",")):
        t = time.time()
        mix, trained_wm = mixture(wm, plain, rho, total)
        model, loss = train(c, mix, args.steps, seed=args.train_seed)
        read = reads(model, [list(d) for d in wm])
        sampled = answers(model, [list(d) for d in wm[:args.closed_prompts]])
        tag = "neural student rho=%g" % rho
        # Each reading is scored on its first 1/8, 1/4, 1/2 and all of its records: p against scored tuples.
        # "trained W" is the supervised reading: only the W stories in the mixture (the owner knows what leaked).
        curves = {}
        for name, records, extra, file in (("open (all W)", read, (), "open-all"),
                                           ("open (trained W)", read[:trained_wm], (), "open-trained"),
                                           ("closed", sampled, ("--filter", tfilter), "closed")):
            curves[name] = []
            for part in (8, 4, 2, 1):
                if not records[:len(records) // part]:
                    continue
                # kept, so that a reading can be re-scored (another key, another filter) without retraining
                path = os.path.join(args.work, "%s_%g_%d%s.jsonl" % (file, rho, part, suffix))
                write_predictions(path, records[:len(records) // part], tag)
                curves[name].append(score(args, path, extra))
        cells = []
        for name in ("open (all W)", "open (trained W)", "closed"):
            r = curves[name][-1] if curves[name] else None
            cells.append("%d | %.4f | %.2f" % (r["scored_tuples"], r["favoured_fraction"], r["log10_p_value"])
                         if r else " | | ")
        print("| %g%% | %.3f | %s | %.0f |" % (rho * 100, loss, " | ".join(cells), time.time() - t), flush=True)
        # The probability score of the same tuples (the suspect's mass on the green ids, spec/radioactivity.md
        # section 7) beside the top-1 one, for the full open readings.
        for name, file in (("open (all W)", "open-all"), ("open (trained W)", "open-trained")):
            path = os.path.join(args.work, "%s_%g_1%s.jsonl" % (file, rho, suffix))
            if os.path.exists(path):
                r = score(args, path, ("--score", "probability"))
                print("probability rho=%g %s: %d tuples, mass %.1f, statistic %.2f (expected %.2f), log10 p %.2f (%s)"
                      % (rho, name, r["scored_tuples"], r["probability_mass"], r["statistic"], r["expected"],
                         r["log10_p_value"], r["null"]["method"]), flush=True)
        for name, points in curves.items():
            print("tuples rho=%g %s: %s" % (rho, name, ", ".join(
                "%d:%.2f" % (r["scored_tuples"], r["log10_p_value"]) for r in points)), flush=True)
        if args.control_keys:
            control(args, rho, {"open (all W)": (os.path.join(args.work, "open-all_%g_1%s.jsonl" % (rho, suffix)), ()),
                                "closed": (os.path.join(args.work, "closed_%g_1%s.jsonl" % (rho, suffix)),
                                           ("--filter", tfilter))})


if __name__ == "__main__":
    main()
