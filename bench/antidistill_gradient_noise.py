#!/usr/bin/python3
"""Is the degrade proxy's gradient a direction or sampling noise? (issue 25; bench only, seconds of CPU)

tools/antidistill_grad.py takes g = the gradient of the proxy's mean loss on held-out teacher text. When the proxy is
the teacher itself, the text is the teacher's own samples, and the expected gradient of a model's log-likelihood on its
own samples is zero (the score-function identity; top-p truncation aside), so g is mostly the noise of the sample. This
script computes g on disjoint sets of documents and prints their norms and pairwise cosines: noise gives cosines near
zero and a norm that falls as 1/sqrt(documents); a real direction gives cosines near one. Human text (Austen), which
the teacher does not model well, is the control.

  /usr/bin/python3 bench/antidistill_gradient_noise.py --model stories260K.bin SET.ids.jsonl [SET.ids.jsonl ...]

Each SET is a predictions-format ids file (`telltale radioactivity predict -f text`, as bench/antidistill.py keeps them
in its --work); with --split N each is also cut into N disjoint parts.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import antidistill_grad as grad  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def gradient(model, c, docs):
    model.zero_grad()
    total = sum(len(d) - 1 for d in docs)
    for at in range(0, len(docs), 32):
        x = torch.nn.utils.rnn.pad_sequence([torch.tensor(d) for d in docs[at:at + 32]], batch_first=True,
                                            padding_value=-1)
        inp, tgt = x[:, :-1].clamp(min=0), x[:, 1:]
        (F.cross_entropy(model(inp).reshape(-1, c["vocab_size"]), tgt.reshape(-1), ignore_index=-1,
                         reduction="sum") / total).backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--split", type=int, default=2)
    p.add_argument("sets", nargs="+")
    args = p.parse_args()
    torch.set_num_threads(1)
    c, _, _, model, _ = grad.load(args.model)
    gs = {}
    for path in args.sets:
        docs = grad.held_out(path, c["seq_len"])
        name = os.path.basename(path).split(".")[0]
        gs["%s (%d docs)" % (name, len(docs))] = gradient(model, c, docs)
        for k in range(args.split):
            part = docs[k::args.split]
            gs["%s part %d (%d docs)" % (name, k, len(part))] = gradient(model, c, part)
    for name, g in gs.items():
        print(json.dumps({"set": name, "gradient_norm": round(float(g.norm()), 4)}))
    names = list(gs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            print(json.dumps({"a": a, "b": b, "cosine": round(float(F.cosine_similarity(gs[a], gs[b], 0)), 4)}))


if __name__ == "__main__":
    main()
