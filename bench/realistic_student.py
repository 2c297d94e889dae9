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
Closed mode: the trained student is served by an OpenAI-compatible server on 127.0.0.1 (bench/student_server.py:
/v1/chat/completions, or the legacy /v1/completions with --api completions; answers sampled at --temperature with
seed 1, top 20 logprobs, with their bytes in the chat form), asked --closed-prompts prompts cut from W by `telltale
radioactivity query --concurrency`, and the query log scored with `--answers` and the teacher filter. --probe-every
N asks prefix probes instead: every W story cut after 12 words and every N words more (a suspect that memorised a
story goes on with it for a few tokens even when it samples); with --accounts the answers are also split by their
story's account and scanned as the open reading is. Each trained student is saved in the work dir (a second run
reads it again without training); every reading is appended to WORK/results.jsonl, which --plot draws (log10 p
against rho). --control-keys N scores each full reading (--control-readings full), each account scan (scans: the
scan's Bonferroni p under every key) or both with N unrelated fixed keys and checks the counts at p <= 0.05 and 0.01
against exact binomial bounds. --accounts N also reads W as N accounts (consecutive runs of stories,
as the teacher served them), each scored alone, and reports the smallest p-value times N (Bonferroni).
--tokenizer-type teacher gives the student the watermark tokenizer (the same-tokenizer case; texts still
re-tokenized, as a scraper would).

  /usr/bin/python3 bench/realistic_student.py --telltale build/verify/telltale --work /tmp/realistic \
      [--stories 500] [--rho 0.05,0] [--tokenizer-type bpe] [--student-vocab 1024] [--steps 500] \
      [--pretrain-steps 300] [--finetune-steps 200] [--paths scratch,finetune] [--threads 1] [--control-keys N] \
      [--control-readings full|scans|both] [--closed-prompts 200 | --probe-every 20] [--closed-tokens 128] \
      [--concurrency 4] [--temperature 1] [--api chat] [--accounts 50]
  /usr/bin/python3 bench/realistic_student.py --telltale build/verify/telltale --work /tmp/realistic --plot OUT.png
  /usr/bin/python3 bench/realistic_student.py --telltale build/verify/telltale --quick   # about a minute

--quick (what bench/run-all --quick, hence scripts/test, runs; statistical checks only, no timing; exit 1 on a
failure): a fixed key (tests' fixed_key(22)), 40 W and 40 U stories, a BPE-512 student tokenizer; a suspect that
memorised W read through its own tokenizer must be detected at p < 1e-9 (top-1 and probability score, open mode
through its BPE-512 and, with --production-vocab FILE.gguf, through a production vocabulary (also with --alignment
first-piece: more tuples; and a memoriser of the plain stories read the same way must not be detected), and
closed mode through the HTTP server and `radioactivity query --concurrency 4`, over /v1/chat/completions and the
legacy /v1/completions); a tiny student trained at rho = 0
must not be detected at 1e-3 (open and closed, both scores); the same two servers asked prefix probes (--probe-every
20, 12 tokens) and scanned as 4 accounts: the memoriser found at p < 1e-9, the student not at 1e-3; three readings
and the memoriser's probe scan scored with 20 unrelated fixed keys must stay within the exact binomial bounds.
"""
import argparse
import copy
import glob
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neural_student as ns  # noqa: E402  (sets the allocator and BLAS threads before torch loads)
import student_server  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

CORPORA = os.path.join(ns.SHARED_ROOT, "corpora")


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
    """The student's SentencePiece model, trained once on human text plus U (fixed seed, one thread); with
    --tokenizer-type teacher, the watermark tokenizer itself (a student that shares the teacher's tokenizer, and
    re-tokenizes the text it collected as any scraper would)."""
    if args.tokenizer_type == "teacher":
        return args.tokenizer
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


class ProductionVocab:
    """A production tokenizer (a llama.cpp GGUF vocabulary, e.g. Llama 3's 128k byte-level BPE) as a student's: texts
    are encoded by telltale's own tokenizer (the Python binding's `Tokenizer`, as the verifier reads the file), and
    the student's output layer covers only the ids its texts hold (vocabulary pruning: a 128k-way softmax is out of
    this CPU bench's reach, and an id no text holds is never a training target). Student id 3 + k is the k-th
    smallest production id in use; 0-2 are the student's own BOS / padding slots. Predictions are written in
    production ids, the vocabulary size and SHA-256 the GGUF file's, so the verifier aligns them with
    `--suspect-tokenizer FILE.gguf` as it would a real model's."""

    def __init__(self, args, path, texts):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.telltale))), "python"))
        import telltale  # noqa: E402  (the binding built beside the CLI: build/python)
        self.tok = telltale.Tokenizer(path)
        used = set()
        for t in texts:
            used.update(int(i) for i in self.tok.encode(t))
        self.used = sorted(used)
        self.compact = {i: 3 + k for k, i in enumerate(self.used)}
        self.size = 3 + len(self.used)

    def encode(self, texts):
        return [[self.compact[int(i)] for i in self.tok.encode(t)] for t in texts]

    def records(self, records):
        """Open-mode records in production ids; an alternative in the student's own slots (never a target) is
        dropped from its position's list."""
        out = []
        for r in records:
            pred, lps = [], []
            for ids, lp in zip(r["predicted"], r["logprobs"]):
                keep = [(self.used[i - 3], v) for i, v in zip(ids, lp) if i >= 3]
                pred.append([i for i, _ in keep])
                lps.append([v for _, v in keep])
            out.append(dict(r, ids=[self.used[i - 3] for i in r["ids"]], predicted=pred, logprobs=lps))
        return out


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


def fixed_key(path, seed):
    """tests/verify_test_support.hpp's fixed_key(seed) (secret byte i = seed + i) as a key file (spec/key-file.md):
    the same key every run, so that a check reads the same texts every run."""
    head = b"TTKEYv1\n" + struct.pack("<II", 1, 0) + bytes((seed + i) & 0xFF for i in range(32))
    if os.path.exists(path):  # made by an earlier (or a concurrent) run of the same work dir: the same bytes
        return path
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(head + hashlib.sha256(head).digest())
    os.replace(tmp, path)  # whole or absent: a concurrent run never reads half a key
    return path


def score(args, path, extra=(), key=None, closed=False):
    """`radioactivity score` of a predictions file (open) or a query log (closed, --answers); its JSON."""
    r = ns.telltale(args, "radioactivity", "score", "-k", key or args.key, "-t", args.tokenizer,
                    "--answers" if closed else "--predictions", path, *args.scheme,
                    *(() if "--alignment" in extra else ("--alignment", args.alignment)), *extra, ok=(0, 1))
    return json.loads(r.stdout)


def control_keys(args, n):
    """n unrelated fixed keys (seeds 30, 31, ...; the owner's quick-mode key is 22), made once in the work dir."""
    os.makedirs(os.path.join(args.work, "control-keys"), exist_ok=True)
    return [fixed_key(os.path.join(args.work, "control-keys", "f%d.key" % s), s) for s in range(30, 30 + n)]


def control(args, keys, name, p_value):
    """One reading scored with every unrelated key (p_value(key)): under H0 each p-value is uniform or conservative
    (KGW's count is discrete, the probability score's Chernoff bound is an upper bound, an account scan's Bonferroni
    product is a bound), so the number at or below 0.05 (0.01) is at most Binomial(n, 0.05) (0.01); the check fails
    when it exceeds the upper 1e-3 quantile. Returns (ok, line)."""
    ps = [p_value(key) for key in keys]
    n = len(ps)
    k05, k01 = sum(p <= 0.05 for p in ps), sum(p <= 0.01 for p in ps)
    b05, b01 = ns.binomial_upper(n, 0.05), ns.binomial_upper(n, 0.01)
    line = "%s, %d unrelated keys: %d at p <= 0.05 (bound %d), %d at p <= 0.01 (bound %d), smallest %.3g" % (
        name, n, k05, b05, k01, b01, min(ps))
    return k05 <= b05 and k01 <= b01, line


def closed_prompts(args, wm_text, n, words=12, name=""):
    """The first `words` words of W stories, distinct, up to n of them: prompts cut from the teacher's own text (all
    its stories start from the one prompt "Once upon a time", which would ask n times the same thing)."""
    prompts = []
    for t in wm_text:
        prompt = " ".join(t.split()[:words])
        if prompt not in prompts:
            prompts.append(prompt)
        if len(prompts) == n:
            break
    path = os.path.join(args.work, "prompts%s_%d_%d.jsonl" % (name, len(prompts), words))
    with open(path, "w") as f:
        for prompt in prompts:
            f.write(json.dumps({"prompt": prompt}) + "\n")
    return path, prompts


def probe_prompts(args, wm_text, every, words=12):
    """Prefix probes: every W story cut after its first `words` words, then every `every` words more, up to 4 words
    before its end; each prompt asks the suspect to go on from inside a story the teacher served. Returns the prompt
    file, the prompts and each prompt's story (the first story of a prompt that recurs)."""
    prompts, story_of, seen = [], [], set()
    for i, t in enumerate(wm_text):
        w = t.split()
        for n in range(words, len(w) - 4, every):
            prompt = " ".join(w[:n])
            if prompt not in seen:
                seen.add(prompt)
                prompts.append(prompt)
                story_of.append(i)
    path = os.path.join(args.work, "probes_%d_every%d_%d.jsonl" % (len(wm_text), every, words))
    with open(path, "w") as f:
        for prompt in prompts:
            f.write(json.dumps({"prompt": prompt}) + "\n")
    return path, prompts, story_of


def closed_account_scan(args, log, story_of, n_stories, n, extra):
    """The closed reading cut by account: the query log's answers split by their prompt's story into n accounts (the
    stories of account a are a*size .. (a+1)*size - 1, as account_scan cuts W), each account's answers scored alone
    (bonferroni_scan)."""
    size = -(-n_stories // n)
    lines = {a: [] for a in range(n)}
    with open(log) as f:
        for line in f:
            j = json.loads(line)
            if "index" in j and "response" in j:
                lines[story_of[j["index"]] // size].append(line)
    files = []
    for a, chunk in lines.items():
        if chunk:
            files.append((a, "%s.account%d_of%d" % (log, a, n)))
            with open(files[-1][1], "w") as f:
                f.writelines(chunk)
    return bonferroni_scan(args, files, n, extra, closed=True), files


def bonferroni_scan(args, files, n, extra, closed=False, key=None, kinds=("top1", "probability")):
    """Each account's file (a list of (account, path)) scored alone, with each score, and the smallest p-value times
    n (Bonferroni: a rigorous bound on the chance that any of n accounts reads this low under H0, whatever their
    dependence). Returns per score kind (log10 of n p_min, capped at 0; the account; its scored tuples)."""
    out = {}
    for kind in kinds:
        best = None
        for a, path in files:
            r = score(args, path, (*extra, "--score", kind), key, closed)
            if best is None or r["log10_p_value"] < best[2]:
                best = (a, r["scored_tuples"], r["log10_p_value"])
        out[kind] = (min(0.0, best[2] + math.log10(n)), best[0], best[1])
    return out


def teacher_filter(args):
    path = os.path.join(args.work, "teacher.ttcf")
    if not os.path.exists(path):
        ns.telltale(args, "radioactivity", "filter", "-t", args.tokenizer, "-f", "text", "--out", path,
                    "--context-width", args.context_width, os.path.join(args.work, "wm.jsonl"))
    return path


def query(args, complete, pieces, prompts, log, max_tokens, concurrency, api=None):
    """Serves `complete` on 127.0.0.1 and asks it every prompt through `telltale radioactivity query`; returns the
    query's summary (None when the log exists from an earlier run: it is scored as it is)."""
    if os.path.exists(log):
        return None
    srv = student_server.serve(complete, pieces)
    try:
        r = ns.telltale(args, "radioactivity", "query", "--endpoint", srv.url, "--model", "student", "--prompts",
                        prompts, "--log", log, "--max-tokens", str(max_tokens), "--temperature",
                        str(args.temperature), "--seed", "1", "--concurrency", str(concurrency), "--rate", "1000",
                        "--api", api or args.api,
                        "--timeout", "1200", "--quiet")
    finally:
        srv.shutdown()
        srv.server_close()
    return json.loads(r.stdout)


def memoriser_records(wm):
    """Open-mode records of a suspect that memorised W in its own tokenizer: at every position it predicts the next
    id of the story, with probability 1."""
    return [{"ids": d, "positions": list(range(1, len(d))), "predicted": [[d[p]] for p in range(1, len(d))],
             "logprobs": [[0.0]] * (len(d) - 1)} for d in wm if len(d) > 1]


def memoriser_answers(wm, pieces, prompts):
    """An answer function for a server that memorised W: a prompt cut from a W story is answered with the rest of that
    story (its ids in the student tokenizer, probability 1)."""
    rest = {}
    for d in wm:
        text = b""
        for k, i in enumerate(d):
            text += pieces[i]
            if text.startswith(b" ") and text[1:].decode("utf-8", errors="replace") in prompts:
                rest.setdefault(text[1:].decode("utf-8"), d[k + 1:])

    def complete(prompt, max_tokens, temperature, seed, top):
        return [(i, 0.0, [(i, 0.0)] if top else []) for i in rest.get(prompt, [])[:max_tokens]]

    return complete, len(rest)


def setup(args):
    """The teacher's stories, the student tokenizer, and W and U in its ids (made once per work dir)."""
    os.makedirs(args.work, exist_ok=True)
    t0 = time.time()
    ns.stories(args, "wm", 1000, args.key)  # writes wm.jsonl and plain.jsonl once (ids in the watermark tokenizer)
    ns.stories(args, "plain", 500000, None)
    human = human_texts(args.corpora)[:args.human_paragraphs or None]
    wm_text, plain_text = texts_of(args, "wm"), texts_of(args, "plain")
    c = ns.reference_config(args.model)
    if args.student_tokenizer:
        # The ids of the texts it trains on: the human text only where it is pretrained on it.
        pv = ProductionVocab(args, args.student_tokenizer,
                             wm_text + plain_text + (human if "finetune" in args.paths.split(",") else []))
        smodel, ssha, pieces = args.student_tokenizer, pv.tok.sha256, None
        c["vocab_size"], out_vocab, to_suspect, enc = pv.size, pv.tok.vocab_size, pv.records, pv.encode
    else:
        smodel = train_tokenizer(args, human, plain_text)
        with open(smodel, "rb") as f:
            ssha = hashlib.sha256(f.read()).hexdigest()
        c["vocab_size"] = out_vocab = args.student_vocab
        pieces, to_suspect, enc = student_server.piece_bytes(smodel), (lambda r: r), (lambda t: encode(smodel, t))
    wm, plain = enc(wm_text), enc(plain_text)
    wm = [d[:c["seq_len"] - 1] for d in wm]
    print("student tokenizer %s: W %d ids, U %d ids, human %d paragraphs, student vocabulary %d (%.0f s)" % (
        os.path.basename(smodel), sum(map(len, wm)), sum(map(len, plain)), len(human), c["vocab_size"],
        time.time() - t0), flush=True)
    return argparse.Namespace(human=human, wm_text=wm_text, smodel=smodel, ssha=ssha, c=c, wm=wm, plain=plain,
                              pieces=pieces, encode=enc, to_suspect=to_suspect, out_vocab=out_vocab)


def quick(args):
    """Statistical self-checks at tiny size, for scripts/test (through bench/run-all --quick); no timing. Fixed key and
    seeds: every run reads the same texts. Exit 1 when a check fails."""
    fresh = not args.work
    if fresh:
        args.work = tempfile.mkdtemp(prefix="telltale-realistic-quick-")
    elif os.path.exists(args.work) and os.listdir(args.work):
        sys.exit("realistic student quick: --work %s is not empty (the checks start from nothing)" % args.work)
    os.makedirs(args.work, exist_ok=True)
    args.stories, args.student_vocab, args.human_paragraphs = 40, 512, 2000
    args.key = fixed_key(os.path.join(args.work, "k.key"), 22)
    s = setup(args)
    own = ("--suspect-tokenizer", s.smodel)
    failed = []

    def check(ok, what):
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        if not ok:
            failed.append(what)

    def line(r):
        return "log10 p %.2f over %d tuples" % (r["log10_p_value"], r["scored_tuples"])

    # A suspect that memorised W, read through its own tokenizer: detected far beyond the goal (1e-9).
    mem = os.path.join(args.work, "memoriser.jsonl")
    write_predictions(mem, memoriser_records(s.wm), args.student_vocab, s.ssha, "memorised W")
    for kind in ("top1", "probability"):
        r = score(args, mem, (*own, "--score", kind))
        check(r["log10_p_value"] < -9 and r["alignment"]["positions"] > 0,
              "open, memorised W, %s, own tokenizer: %s (p < 1e-9)" % (kind, line(r)))
    # The same memoriser in a production vocabulary (Llama 3's, a llama.cpp GGUF), read through it.
    if args.production_vocab:
        pv = ProductionVocab(args, args.production_vocab, s.wm_text)
        prod = os.path.join(args.work, "memoriser_production.jsonl")
        write_predictions(prod, pv.records(memoriser_records(pv.encode(s.wm_text))), pv.tok.vocab_size,
                          pv.tok.sha256, "memorised W, production vocabulary")
        for kind in ("top1", "probability"):
            r = score(args, prod, ("--suspect-tokenizer", args.production_vocab, "--score", kind))
            check(r["log10_p_value"] < -9 and r["alignment"]["positions"] > 0,
                  "open, memorised W, %s, production vocabulary %s: %s (p < 1e-9)" % (
                      kind, os.path.basename(args.production_vocab), line(r)))
            # The first-piece rule reads the words that span several watermark tokens too: more tuples, still found.
            f = score(args, prod, ("--suspect-tokenizer", args.production_vocab, "--score", kind, "--alignment",
                                   "first-piece"))
            check(f["log10_p_value"] < -9 and f["scored_tuples"] > r["scored_tuples"],
                  "open, memorised W, %s, production vocabulary, --alignment first-piece: %s (p < 1e-9, more than "
                  "the %d tuples of whole tokens)" % (kind, line(f), r["scored_tuples"]))
        # The rule's null: a suspect that memorised the plain stories U (no watermark), read on U through the same
        # vocabulary, most of its words read by their first piece: not detected at 1e-3.
        plain_text = texts_of(args, "plain")[:len(s.wm_text)]
        pu = ProductionVocab(args, args.production_vocab, plain_text)
        unw = os.path.join(args.work, "memoriser_plain_production.jsonl")
        write_predictions(unw, pu.records(memoriser_records(pu.encode(plain_text))), pu.tok.vocab_size,
                          pu.tok.sha256, "memorised U, production vocabulary")
        for kind in ("top1", "probability"):
            r = score(args, unw, ("--suspect-tokenizer", args.production_vocab, "--score", kind, "--alignment",
                                  "first-piece"))
            check(r["p_value"] > 1e-3 and r["alignment"]["candidates_by_first_piece"] > 0,
                  "open, memorised plain text (no watermark), %s, production vocabulary, --alignment first-piece "
                  "(%d candidates by their first piece): %s (not detected at 1e-3)" % (
                      kind, r["alignment"]["candidates_by_first_piece"], line(r)))
    # A student trained from scratch at rho = 0 (tiny: 2 layers, 30 steps): not detected at alpha = 1e-3, which
    # under H0 fails at most once in 1000 draws of the fixed key.
    c = dict(s.c, n_layers=2)
    mix, _ = ns.mixture(s.wm, s.plain, 0.0, sum(map(len, s.wm)))
    model, loss = ns.train(c, mix, 30, seed=args.train_seed, batch=8)
    student = os.path.join(args.work, "student_rho0.jsonl")
    write_predictions(student, ns.reads(model, s.wm), args.student_vocab, s.ssha, "quick student rho=0")
    for kind in ("top1", "probability"):
        r = score(args, student, (*own, "--score", kind))
        check(r["p_value"] > 1e-3, "open, student rho=0 (loss %.2f), %s: %s (not detected at 1e-3)" % (
            loss, kind, line(r)))
    # Closed mode through HTTP: the memoriser's and the student's answers to prompts cut from W, asked with
    # `radioactivity query --concurrency 4`, scored with the teacher filter.
    prompts_path, prompts = closed_prompts(args, s.wm_text, 8)
    tfilter = ("--filter", teacher_filter(args))
    complete, known = memoriser_answers(s.wm, s.pieces, prompts)
    logs = {}
    for name, fn, api in (("memorised W", complete, "chat"), ("memorised W, legacy /completions", complete,
                                                                "completions"),
                          ("student rho=0", student_server.sampler(model, lambda t: encode(s.smodel, [t])[0]), "chat")):
        logs[name] = os.path.join(args.work, "answers_%s_%s.jsonl" % (name.split()[0], api))
        q = query(args, fn, s.pieces, prompts_path, logs[name], 48, 4, api)
        check(q["complete"] and q["answers_without_logprobs"] == 0 and q["prompts"] == len(prompts),
              "closed, %s: %d prompts answered over HTTP with logprobs" % (name, q["prompts"]))
        for kind in ("top1", "probability"):
            r = score(args, logs[name], (*tfilter, "--score", kind), closed=True)
            if name.startswith("memorised W"):
                check(r["log10_p_value"] < -9, "closed, %s (%d of %d prompts known), %s: %s (p < 1e-9)" % (
                    name, known, len(prompts), kind, line(r)))
            else:
                check(r["p_value"] > 1e-3, "closed, %s, %s: %s (not detected at 1e-3)" % (name, kind, line(r)))
    # Closed mode by prefix probes, scanned by account: prompts cut inside every W story (every 20 words), the 40
    # stories as 4 accounts; the memoriser is found, the rho = 0 student is not, each with the Bonferroni bound.
    probes_path, probes, story_of = probe_prompts(args, s.wm_text, 20)
    complete, known = memoriser_answers(s.wm, s.pieces, set(probes))
    scan_files = {}
    for name, fn in (("memorised W", complete),
                     ("student rho=0", student_server.sampler(model, lambda t: encode(s.smodel, [t])[0]))):
        log = os.path.join(args.work, "answers_probes_%s.jsonl" % name.split()[0])
        q = query(args, fn, s.pieces, probes_path, log, 12, 4, "chat")
        check(q["complete"] and q["prompts"] == len(probes),
              "closed, %s: %d prefix probes answered over HTTP" % (name, q["prompts"]))
        scan, scan_files[name] = closed_account_scan(args, log, story_of, len(s.wm), 4, tfilter)
        for kind, (log10, account, scored) in scan.items():
            what = "closed, %s, %d prefix probes%s, 4-account scan, %s: log10 (4 p_min) %.2f, account %d, %d " \
                   "tuples" % (name, len(probes), " (%d known)" % known if name.startswith("memorised") else "", kind,
                               log10, account, scored)
            if name.startswith("memorised W"):
                check(log10 < -9, what + " (p < 1e-9)")
            else:
                check(log10 > -3, what + " (not detected at 1e-3)")
    # Unrelated keys: the memoriser's readings (strong under the owner's key) and the student's, under 20 others; and
    # the memoriser's 4-account probe scan, each key's Bonferroni p.
    keys = control_keys(args, 20)
    for name, path, extra, closed in (("open, memorised W, top1", mem, own, False),
                                      ("open, student rho=0, top1", student, own, False),
                                      ("closed, memorised W, top1", logs["memorised W"], tfilter, True)):
        ok, text = control(args, keys, name, lambda key: score(args, path, extra, key, closed)["p_value"])
        check(ok, text)
    ok, text = control(args, keys, "closed, memorised W, prefix probes, 4-account scan, top1", lambda key: 10 ** (
        bonferroni_scan(args, scan_files["memorised W"], 4, tfilter, True, key, ("top1",))["top1"][0]))
    check(ok, text)
    if failed:
        sys.exit("realistic student quick: %d check(s) failed (files kept in %s)" % (len(failed), args.work))
    if fresh:
        shutil.rmtree(args.work)
    print("realistic student quick: all checks passed")


def account_scan(args, records, n, write, extra):
    """W cut into n accounts (consecutive, equal runs of stories: the teacher's outputs as its accounts received
    them), each account's reading written once by `write` and scored alone (bonferroni_scan)."""
    size = -(-len(records) // n)
    chunks = ((a, records[a * size:(a + 1) * size]) for a in range(n))
    files = [(a, write(a, chunk)) for a, chunk in chunks if chunk]
    return bonferroni_scan(args, files, n, extra), files


def record(args, row):
    """Appends one reading to the work dir's results.jsonl (what --plot draws)."""
    if args.alignment != "whole-token":  # a reading under another rule is another series
        row = dict(row, reading="%s [%s]" % (row["reading"], args.alignment), alignment=args.alignment)
    with open(os.path.join(args.work, "results.jsonl"), "a") as f:
        f.write(json.dumps(row) + "\n")


def plot(args):
    """log10 p against rho from results.jsonl: one row per score (top-1, probability), open readings on the left and
    closed (HTTP) on the right; one series per (path, tokenizer, seed, steps, reading), drawn in the same colour in
    every panel and named once in the legend, so that points of different training budgets are never joined. Series i
    is drawn 0.015 i percentage points to the side, so that readings of one rho do not hide one another. A work dir
    with only open readings gets one column."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [json.loads(x) for x in open(os.path.join(args.work, "results.jsonl")) if x.strip()]
    series = {}
    for r in (r for r in rows if "trained W" not in r["reading"]):
        reading = re.sub(r"account scan: (\d+) accounts, Bonferroni", r"\1-account scan", r["reading"])
        name = "%s %s s%d, %d steps, %s" % (r["path"], r["tokenizer"], r["seed"], r["steps"], reading)
        if args.plot_series and not re.search(args.plot_series, name):
            continue
        series.setdefault(name, {}).setdefault(r["score"], {})[r["rho"]] = r["log10_p"]
    columns = sorted({name.split(", ")[2].startswith("closed") for name in series})
    fig, axes = plt.subplots(2, len(columns), figsize=(6.5 * len(columns) + 5, 10), sharey="row", squeeze=False)
    colors = plt.get_cmap("tab20").colors
    for i, (name, scores) in enumerate(sorted(series.items())):
        col = columns.index(name.split(", ")[2].startswith("closed"))
        shift = 0.015 * (i - len(series) / 2)  # readings of one rho spread sideways, so that none hides another
        for row, kind in enumerate(("top1", "probability")):
            points = scores.get(kind, {})
            xs = sorted(points)
            # Dashed: a scan of accounts (the smallest p times their number), not one pooled test.
            axes[row][col].plot([100 * x + shift for x in xs], [points[x] for x in xs], color=colors[i % len(colors)],
                                marker="o^sv"[i // len(colors) % 4], ms=4, ls="--" if "account scan" in name else "-",
                                label=name if row == 0 else None)
    titles = {False: "open mode (the student's own predictions)", True: "closed mode (its API's answers)"}
    for row, kind in enumerate(("top-1", "probability score")):
        for col, closed in enumerate(columns):
            ax = axes[row][col]
            for y, ls in ((-3, "-."), (-6, "--"), (-9, ":")):
                ax.axhline(y, color="grey", ls=ls, lw=1)
            ax.set_title("%s, %s" % (titles[closed], kind), fontsize=10)
            if row == 1:
                ax.set_xlabel("rho: watermarked share of the student's training mixture (%)")
        axes[row][0].set_ylabel("log10 p (grey: 1e-3, 1e-6, 1e-9)")
    handles = [h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(0.66, 0.93))
    fig.suptitle("Realistic student (issue 22): detection against rho")
    fig.tight_layout(rect=(0, 0, 0.65, 0.97))
    fig.savefig(args.plot, dpi=110)
    print("wrote %s (%d series)" % (args.plot, len(series)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--telltale", required=True)
    p.add_argument("--work", default="", help="work dir (kept and reused); --quick without it uses a fresh temp dir")
    p.add_argument("--quick", action="store_true", help="tiny statistical self-checks (scripts/test); exit 1 on a fail")
    p.add_argument("--plot", default="", help="only draw log10 p against rho from WORK/results.jsonl into this PNG")
    p.add_argument("--plot-series", default="", help="--plot: only the series whose name matches this regex")
    p.add_argument("--model", default=os.path.join(ns.SHARED, "stories260K.bin"))
    p.add_argument("--tokenizer", default=os.path.join(ns.SHARED, "tok512.model"), help="the watermark tokenizer")
    p.add_argument("--corpora", default=CORPORA, help="human text for the student tokenizer and pretraining")
    p.add_argument("--human-paragraphs", type=int, default=0, help="use only the first N paragraphs (0: all)")
    p.add_argument("--stories", type=int, default=500)
    p.add_argument("--rho", default="0.05,0")
    p.add_argument("--tokenizer-type", choices=("bpe", "unigram", "teacher", "production"), default="bpe",
                   help="the student's tokenizer: trained by spm_train, the watermark tokenizer itself, or a "
                        "production vocabulary (--student-tokenizer FILE.gguf)")
    p.add_argument("--student-tokenizer", default="", help="--tokenizer-type production: the GGUF vocabulary")
    p.add_argument("--production-vocab", default="",
                   help="--quick: also read the memoriser through this production vocabulary (a GGUF file)")
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
    p.add_argument("--closed-prompts", type=int, default=200,
                   help="closed mode: W prompts asked through the HTTP server (0: no closed reading)")
    p.add_argument("--closed-tokens", type=int, default=128, help="closed mode: answer length (max_tokens)")
    p.add_argument("--concurrency", type=int, default=4, help="closed mode: requests in flight")
    p.add_argument("--api", choices=("chat", "completions"), default="chat",
                   help="closed mode: /v1/chat/completions or the legacy /v1/completions")
    p.add_argument("--temperature", type=float, default=1.0, help="closed mode: 0 greedy, else sampled")
    p.add_argument("--closed-trained", action="store_true",
                   help="closed mode: prompts cut only from the W stories in the mixture (the owner knows them)")
    p.add_argument("--probe-every", type=int, default=0,
                   help="closed mode: prefix probes instead of --closed-prompts story openings: every W story cut "
                        "after 12 words and every N words more (with --accounts, also scanned by account)")
    p.add_argument("--alignment", choices=("whole-token", "first-piece"), default="whole-token",
                   help="telltale's --alignment: how a student token that is not one whole watermark token is read")
    p.add_argument("--key-seed", type=int, default=None,
                   help="the teacher's key: fixed_key(SEED), the same every run (default: telltale keygen, once)")
    p.add_argument("--accounts", type=int, default=0,
                   help="also read W as this many accounts (consecutive runs of stories), the smallest p x accounts")
    p.add_argument("--control-keys", type=int, default=0,
                   help="also score each full reading with this many unrelated fixed keys (null control, <= 200)")
    p.add_argument("--control-readings", choices=("full", "scans", "both"), default="full",
                   help="--control-keys: the full readings, the account scans (the scan's Bonferroni p under every "
                        "key: keys x accounts scores per score), or both")
    args = p.parse_args()
    args.scheme = ["--scheme", "kgw", "--gamma", "0.25", "--delta", args.delta, "--context-width", args.context_width]
    torch.set_num_threads(args.threads)
    if args.quick:
        return quick(args)
    if not args.work:
        p.error("--work is required (except with --quick)")
    if args.plot:
        return plot(args)
    if args.tokenizer_type == "teacher":
        args.student_vocab = ns.reference_config(args.model)["vocab_size"]
    if (args.tokenizer_type == "production") != bool(args.student_tokenizer):
        p.error("--student-tokenizer FILE.gguf goes with --tokenizer-type production, and only with it")
    if args.tokenizer_type == "production":
        if args.closed_prompts:
            p.error("--tokenizer-type production reads in open mode only (give --closed-prompts 0): the bench's "
                    "server sends each SentencePiece piece's bytes")

    os.makedirs(args.work, exist_ok=True)
    args.key = os.path.join(args.work, "k.key")
    if args.key_seed is not None:
        fixed_key(args.key, args.key_seed)
    elif not os.path.exists(args.key):
        ns.telltale(args, "keygen", "--out", args.key)
    s = setup(args)
    if args.student_tokenizer:
        args.student_vocab = s.out_vocab  # names: production128256 (the file is in the run's log and RESULTS)
    c, wm, plain = s.c, s.wm, s.plain
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
            pre_docs = blocks(s.encode(s.human), 256) + plain
            pretrained, loss = ns.train(c, pre_docs, args.pretrain_steps, seed=args.train_seed)
            torch.save(pretrained.state_dict(), ckpt)
            print("pretrained %d steps on %d docs (human blocks + U): loss %.3f (%.0f s)" % (
                args.pretrain_steps, len(pre_docs), loss, time.time() - t), flush=True)
    own = ("--suspect-tokenizer", s.smodel)
    keys = control_keys(args, args.control_keys) if args.control_keys else []
    story_of = None
    if args.closed_prompts and args.probe_every:
        prompts_path, prompts, story_of = probe_prompts(args, s.wm_text, args.probe_every)
        tfilter = ("--filter", teacher_filter(args))
    elif args.closed_prompts:
        prompts_path, prompts = closed_prompts(args, s.wm_text, args.closed_prompts)
        tfilter = ("--filter", teacher_filter(args))
    trained_only = "_trained" if args.closed_trained else ""
    # Files a run writes for a reading under another rule are its own (the same reading may be scored at once
    # under the default rule by another run).
    files = "" if args.alignment == "whole-token" else "_" + args.alignment
    print("\n| rho | path | reading | train loss | top-1: scored | green | log10 p | probability: tuples | "
          "statistic / expected | log10 p | alignment (positions, off boundary, top not one token) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for rho in (float(x) for x in args.rho.split(",")):
        mix, trained_wm = ns.mixture(wm, plain, rho, sum(len(d) for d in wm))
        for path in paths:
            t = time.time()
            steps = args.steps if path == "scratch" else args.finetune_steps
            saved = os.path.join(args.work, "student_%s_%s_%g_%d.pt" % (path, tag, rho, steps))
            if os.path.exists(saved):  # trained by an earlier run: read again (closed mode, controls) without training
                model = ns.Student(c)
                state = torch.load(saved)
                loss = state.pop("final_loss").item()
                model.load_state_dict(state)
            else:
                if path == "scratch":
                    model, loss = ns.train(c, mix, args.steps, seed=args.train_seed)
                else:
                    model, loss = fine_tune(copy.deepcopy(pretrained), c, mix, args.finetune_steps, args.train_seed,
                                            args.finetune_lr)
                torch.save({**model.state_dict(), "final_loss": torch.tensor(loss)}, saved)
                print("trained %s rho=%g: %d steps, loss %.3f (%.0f s)" % (path, rho, steps, loss, time.time() - t),
                      flush=True)
            model.eval()
            t = time.time()
            read = ns.reads(model, wm)
            readings, scans = [], []
            for name, records in (("open (all W)", read), ("open (trained W)", read[:trained_wm])):
                if not records:
                    continue
                file = os.path.join(args.work, "%s_%s_%s_%g_%d%s.jsonl" % (
                    path, tag, "all" if "all" in name else "trained", rho, steps, files))
                write_predictions(file, s.to_suspect(records), s.out_vocab, s.ssha, "realistic student %s %s rho=%g" % (
                    path, tag, rho))
                readings.append((name, file, own, False))
            if args.closed_prompts and args.closed_trained and not args.probe_every:  # the owner knows the leak
                prompts_path, prompts = closed_prompts(args, s.wm_text[:trained_wm], args.closed_prompts,
                                                       name="_trained_%g" % rho)
            if args.closed_prompts and prompts:
                log = os.path.join(args.work, "answers_%s_%s_%g_%d_p%d%s%s_n%d_t%g%s.jsonl" % (
                    path, tag, rho, steps, len(prompts), trained_only,
                    "_every%d" % args.probe_every if args.probe_every else "", args.closed_tokens, args.temperature,
                    "" if args.api == "chat" else "_legacy"))
                q = query(args, student_server.sampler(model, lambda x: s.encode([x])[0]), s.pieces,
                          prompts_path, log, args.closed_tokens, args.concurrency)
                if q is not None:
                    print("closed rho=%g %s: %d prompts, %d answered, %d requests, %d failed attempts (%.0f s)" % (
                        rho, path, q["prompts"], q["answered_now"], q["requests"], q["failed_attempts"],
                        time.time() - t), flush=True)
                probes = "probes every %d words, %d tokens, " % (args.probe_every, args.closed_tokens)
                readings.append(("closed (HTTP%s, %d %sprompts, %s%s)" % (
                    "" if args.api == "chat" else " /completions", len(prompts), "trained-W " if trained_only else "",
                    probes if args.probe_every else "",
                    "greedy" if args.temperature == 0 else "T=%g" % args.temperature), log, tfilter, True))
            for name, file, extra, closed in readings:
                top1 = score(args, file, extra, closed=closed)
                prob = score(args, file, (*extra, "--score", "probability"), closed=closed)
                a = top1.get("alignment") or prob["alignment"]
                for kind, r in (("top1", top1), ("probability", prob)):
                    record(args, {"rho": rho, "path": path, "tokenizer": "%s%d" % (args.tokenizer_type,
                                                                                   args.student_vocab),
                                  "seed": args.train_seed, "steps": steps, "reading": name, "score": kind,
                                  "loss": loss, "scored": r["scored_tuples"], "statistic": r["statistic"],
                                  "expected": r["expected"], "log10_p": r["log10_p_value"], "file": file})
                print("| %g%% | %s | %s | %.3f | %d | %.4f | %.2f | %d | %.1f / %.1f | %.2f | %d, %d, %d | %.0f |" % (
                    rho * 100, path, name, loss, top1["scored_tuples"], top1["favoured_fraction"],
                    top1["log10_p_value"], prob["scored_tuples"], prob["statistic"], prob["expected"],
                    prob["log10_p_value"], a["positions"], a["off_watermark_boundary"],
                    a["top_not_one_watermark_token"], time.time() - t), flush=True)
            if args.accounts:
                def write(a, chunk):
                    file = os.path.join(args.work, "%s_%s_account%d_of%d_%g_%d%s.jsonl" % (
                        path, tag, a, args.accounts, rho, steps, files))
                    write_predictions(file, s.to_suspect(chunk), s.out_vocab, s.ssha, "account %d" % a)
                    return file
                scan, files = account_scan(args, read, args.accounts, write, own)
                name = "open (account scan: %d accounts, Bonferroni)" % args.accounts
                scans.append((name, files, own, False))
                for kind, (log10, account, scored) in scan.items():
                    record(args, {"rho": rho, "path": path, "tokenizer": "%s%d" % (args.tokenizer_type,
                                                                                   args.student_vocab),
                                  "seed": args.train_seed, "steps": steps, "reading": name, "score": kind,
                                  "loss": loss, "scored": scored, "account": account, "log10_p": log10})
                print("| %g%% | %s | %s | %.3f | top-1: account %d, %d tuples, log10 p x %d: %.2f | probability: "
                      "account %d, %d tuples, log10 p x %d: %.2f |" % (
                          rho * 100, path, name, loss, scan["top1"][1], scan["top1"][2], args.accounts,
                          scan["top1"][0], scan["probability"][1], scan["probability"][2], args.accounts,
                          scan["probability"][0]), flush=True)
            if args.accounts and story_of is not None:
                scan, files = closed_account_scan(args, log, story_of, len(wm), args.accounts, tfilter)
                name = "closed (probes every %d words, %d tokens, T=%g; account scan: %d accounts, Bonferroni)" % (
                    args.probe_every, args.closed_tokens, args.temperature, args.accounts)
                scans.append((name, files, tfilter, True))
                for kind, (log10, account, scored) in scan.items():
                    record(args, {"rho": rho, "path": path, "tokenizer": "%s%d" % (args.tokenizer_type,
                                                                                   args.student_vocab),
                                  "seed": args.train_seed, "steps": steps, "reading": name, "score": kind,
                                  "loss": loss, "scored": scored, "account": account, "log10_p": log10})
                print("| %g%% | %s | %s | %.3f | top-1: account %d, %d tuples, log10 p x %d: %.2f | probability: "
                      "account %d, %d tuples, log10 p x %d: %.2f |" % (
                          rho * 100, path, name, loss, scan["top1"][1], scan["top1"][2], args.accounts,
                          scan["top1"][0], scan["probability"][1], scan["probability"][2], args.accounts,
                          scan["probability"][0]), flush=True)
            controlled = [(name, lambda key, kind, f=file, e=extra, c=closed: score(
                args, f, (*e, "--score", kind), key, c)["p_value"]) for name, file, extra, closed in readings
                if args.control_readings != "scans" and "trained W" not in name]
            controlled += [(name, lambda key, kind, f=files, e=extra, c=closed: 10 ** bonferroni_scan(
                args, f, args.accounts, e, c, key, (kind,))[kind][0]) for name, files, extra, closed in scans
                if args.control_readings != "full"]
            for name, p_value in controlled if keys else ():
                for kind in ("top1", "probability"):
                    ok, text = control(args, keys, "rho=%g %s %s %s" % (rho, path, name, kind),
                                       lambda key: p_value(key, kind))
                    print("control %s%s" % (text, "" if ok else " OUTSIDE THE BOUND"), flush=True)


if __name__ == "__main__":
    main()
