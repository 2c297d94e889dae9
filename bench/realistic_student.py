#!/usr/bin/python3
"""Distillation bench against a realistic student (issue 22; bench only): a student with its own SentencePiece
tokenizer, trained from scratch or pretrained on human text and plain teacher text then fine-tuned on the mixture.

The teacher's stories (W watermarked, U plain) are written as in bench/neural_student.py, whose model, training and
reading this script imports. A student tokenizer (BPE or unigram, `spm_train`, byte fallback, identity normalization)
is trained on the shared corpora plus U; every text is re-tokenized with it through `spm_encode`; the student (the
reference shape, its vocabulary the tokenizer's) reads all of W and writes its top 20 ids with log-probabilities in
its own ids; telltale scores them with `--suspect-tokenizer` (alignment by byte offsets, spec/predictions-format.md
section 4), `--score top1` and `--score probability`. Two training paths per rho:
  scratch   trained on the mixture only (as neural_student.py);
  finetune  pretrained on human text (../shared/corpora) plus U (once, kept in the work dir), then fine-tuned on the
            mixture at a lower learning rate.

  /usr/bin/python3 bench/realistic_student.py --telltale build/verify/telltale --work /tmp/realistic \
      [--stories 500] [--rho 0.05,0] [--tokenizer-type bpe] [--student-vocab 1024] [--steps 500] \
      [--pretrain-steps 300] [--finetune-steps 200] [--paths scratch,finetune] [--threads 1] [--control-keys N]
"""
import argparse
import copy
import glob
import hashlib
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neural_student as ns  # noqa: E402  (sets the allocator and BLAS threads before torch loads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

CORPORA = os.path.join(ns.HERE, "..", "..", "shared", "corpora")


def one_line(text):
    """A text as one input line of spm_train / spm_encode, which read a sentence per line."""
    return " ".join(text.split())


def human_texts(corpora):
    """The corpora as paragraphs (blank-line separated), each on one line."""
    out = []
    for path in sorted(glob.glob(os.path.join(corpora, "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            out += [one_line(p) for p in f.read().replace("\r", "").split("\n\n") if p.strip()]
    return out


def train_tokenizer(args, human, plain_texts):
    """The student's SentencePiece model, trained once on human text plus U (fixed seed, one thread)."""
    prefix = os.path.join(args.work, "student-%s%d" % (args.tokenizer_type, args.student_vocab))
    if not os.path.exists(prefix + ".model"):
        corpus = os.path.join(args.work, "tokenizer-input.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(human + plain_texts) + "\n")
        r = subprocess.run(["spm_train", "--input", corpus, "--model_prefix", prefix, "--model_type",
                            args.tokenizer_type, "--vocab_size", str(args.student_vocab), "--byte_fallback=true",
                            "--character_coverage=1.0", "--normalization_rule_name=identity", "--random_seed=1",
                            "--num_threads=1", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("spm_train failed: " + r.stderr.strip().splitlines()[-1])
    return prefix + ".model"


def encode(model, texts):
    """Each text's ids in the student tokenizer (no BOS)."""
    r = subprocess.run(["spm_encode", "--model", model, "--output_format=id"], input="\n".join(texts) + "\n",
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("spm_encode failed: " + r.stderr.strip())
    lines = r.stdout.split("\n")[:len(texts)]
    return [[int(i) for i in line.split()] for line in lines]


def texts_of(args, name):
    with open(os.path.join(args.work, name + ".jsonl")) as f:
        return [one_line(json.loads(line)["text"]) for line in f if line.strip()]


def blocks(docs, size):
    """Docs concatenated into one stream and cut into blocks of `size` ids: pretraining text has no story bounds."""
    stream = [i for d in docs for i in d]
    return [stream[at:at + size] for at in range(0, len(stream) - size + 1, size)]


def fine_tune(model, c, docs, steps, seed, lr_max, batch=16, block=256):
    """Continues training `model` on docs: warmup then cosine decay from lr_max (a fine-tune's rate, below the 3e-3
    that neural_student.train starts from)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max, weight_decay=0.0)
    seqs = [torch.tensor([ns.BOS] + d[:block]) for d in docs if len(d) > 1]
    g = torch.Generator().manual_seed(seed)
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_max * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * (1 + math.cos(math.pi * step / steps)) / 2)
        x = nn.utils.rnn.pad_sequence([seqs[i] for i in torch.randint(len(seqs), (batch,), generator=g)],
                                      batch_first=True, padding_value=-1)
        loss = F.cross_entropy(model(x[:, :-1].clamp(min=0)).reshape(-1, c["vocab_size"]), x[:, 1:].reshape(-1),
                               ignore_index=-1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, float(loss)


def write_predictions(path, records, vocab_size, tokenizer_sha, suspect):
    with open(path, "w") as f:
        f.write(json.dumps({"telltale": "predictions", "version": 1, "vocab_size": vocab_size,
                            "tokenizer_sha256": tokenizer_sha, "suspect": suspect}) + "\n")
        for r in records:
            f.write(json.dumps(r) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--telltale", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=os.path.join(ns.SHARED, "stories260K.bin"))
    p.add_argument("--tokenizer", default=os.path.join(ns.SHARED, "tok512.model"), help="the watermark tokenizer")
    p.add_argument("--corpora", default=CORPORA, help="human text for the student tokenizer and pretraining")
    p.add_argument("--stories", type=int, default=500)
    p.add_argument("--rho", default="0.05,0")
    p.add_argument("--tokenizer-type", choices=("bpe", "unigram"), default="bpe")
    p.add_argument("--student-vocab", type=int, default=1024)
    p.add_argument("--paths", default="scratch,finetune")
    p.add_argument("--steps", type=int, default=500, help="training steps from scratch")
    p.add_argument("--pretrain-steps", type=int, default=300)
    p.add_argument("--finetune-steps", type=int, default=200)
    p.add_argument("--finetune-lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--delta", default="3", help="KGW logit bias of the teacher (gamma is 0.25)")
    p.add_argument("--context-width", default="2", help="KGW context width h of the teacher")
    p.add_argument("--train-seed", type=int, default=7)
    p.add_argument("--control-keys", type=int, default=0,
                   help="also score each full reading with this many unrelated keys (null control)")
    args = p.parse_args()
    args.scheme = ["--scheme", "kgw", "--gamma", "0.25", "--delta", args.delta, "--context-width", args.context_width]
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    args.key = os.path.join(args.work, "k.key")
    if not os.path.exists(args.key):
        ns.telltale(args, "keygen", "--out", args.key)
    t0 = time.time()
    ns.stories(args, "wm", 1000, args.key)  # writes wm.jsonl and plain.jsonl once (ids in the watermark tokenizer)
    ns.stories(args, "plain", 500000, None)
    human = human_texts(args.corpora)
    wm_text, plain_text = texts_of(args, "wm"), texts_of(args, "plain")
    smodel = train_tokenizer(args, human, plain_text)
    with open(smodel, "rb") as f:
        ssha = hashlib.sha256(f.read()).hexdigest()
    c = ns.reference_config(args.model)
    c["vocab_size"] = args.student_vocab
    wm, plain = encode(smodel, wm_text), encode(smodel, plain_text)
    wm = [d[:c["seq_len"] - 1] for d in wm]
    print("student tokenizer %s: W %d ids, U %d ids, human %d paragraphs (%.0f s)" % (
        os.path.basename(smodel), sum(map(len, wm)), sum(map(len, plain)), len(human), time.time() - t0), flush=True)
    paths = args.paths.split(",")
    tag = "%s%d_s%d" % (args.tokenizer_type, args.student_vocab, args.train_seed)
    pretrained = None
    if "finetune" in paths:
        ckpt = os.path.join(args.work, "pretrained_%s_%d.pt" % (tag, args.pretrain_steps))
        if os.path.exists(ckpt):
            pretrained = ns.Student(c)
            pretrained.load_state_dict(torch.load(ckpt))
        else:
            t = time.time()
            pre_docs = blocks(encode(smodel, human), 256) + plain
            pretrained, loss = ns.train(c, pre_docs, args.pretrain_steps, seed=args.train_seed)
            torch.save(pretrained.state_dict(), ckpt)
            print("pretrained %d steps on %d docs (human blocks + U): loss %.3f (%.0f s)" % (
                args.pretrain_steps, len(pre_docs), loss, time.time() - t), flush=True)
    extra_suspect = ("--suspect-tokenizer", smodel)
    print("\n| rho | path | reading | train loss | top-1: scored | green | log10 p | probability: tuples | "
          "statistic / expected | log10 p | alignment (positions, off boundary, top not one token) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for rho in (float(x) for x in args.rho.split(",")):
        mix, trained_wm = ns.mixture(wm, plain, rho, sum(len(d) for d in wm))
        for path in paths:
            t = time.time()
            if path == "scratch":
                model, loss = ns.train(c, mix, args.steps, seed=args.train_seed)
            else:
                model, loss = fine_tune(copy.deepcopy(pretrained), c, mix, args.finetune_steps, args.train_seed,
                                        args.finetune_lr)
            read = ns.reads(model, wm)
            readings = {}
            for name, records in (("open (all W)", read), ("open (trained W)", read[:trained_wm])):
                if not records:
                    continue
                file = os.path.join(args.work, "%s_%s_%s_%g.jsonl" % (
                    path, tag, "all" if "all" in name else "trained", rho))
                write_predictions(file, records, c["vocab_size"], ssha, "realistic student %s %s rho=%g" % (
                    path, tag, rho))
                top1 = ns.score(args, file, extra_suspect)
                prob = ns.score(args, file, (*extra_suspect, "--score", "probability"))
                a = top1["alignment"]
                print("| %g%% | %s | %s | %.3f | %d | %.4f | %.2f | %d | %.1f / %.1f | %.2f | %d, %d, %d | %.0f |" % (
                    rho * 100, path, name, loss, top1["scored_tuples"], top1["favoured_fraction"],
                    top1["log10_p_value"], prob["scored_tuples"], prob["statistic"], prob["expected"],
                    prob["log10_p_value"], a["positions"], a["off_watermark_boundary"],
                    a["top_not_one_watermark_token"], time.time() - t), flush=True)
                readings[name] = (file, extra_suspect)
                readings[name + " probability"] = (file, (*extra_suspect, "--score", "probability"))
            if args.control_keys:
                ns.control(args, rho, {k: v for k, v in readings.items() if "all W" in k})


if __name__ == "__main__":
    main()
