#!/usr/bin/python3
"""The gradient behind antidistillation sampling (`telltale generate --antidistill degrade`, issue 25).

Reads the proxy (a llama2.c .bin, here the reference model itself) into PyTorch (Debian's python3-torch, CPU), takes
g = the gradient of its mean next-token loss on held-out teacher text, scales g to unit L2 norm over all weights, and
writes the proxy's two perturbed copies theta + eps g and theta - eps g in the runner's format with eps beside them:

  OUT/plus.bin  OUT/minus.bin  OUT/eps.txt

The generator then adds lambda [ln p(.; theta + eps g) - ln p(.; theta - eps g)] / (2 eps), the finite-difference
estimate of the directional derivative of the proxy's log-probabilities along g (Savani et al. 2025, arXiv
2504.13146, section 3): tokens whose likelihood rises along g are the ones that, learned by a student, raise its
held-out loss. The header and the legacy freq_cis tables are copied unchanged.

  /usr/bin/python3 tools/antidistill_grad.py --model stories260K.bin --held-out held.ids.jsonl --out DIR [--eps 0.01]

--held-out: the JSONL that `telltale radioactivity predict -f text` writes (a header line, then one {"ids": [...]}
per document), or one JSON list of ids per line.
"""
import argparse
import json
import os
import struct
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from neural_student import BOS, Student, reference_config  # noqa: E402  (the one model of the reference shape)


def tensor_layout(c):
    """(parameter name, shape) in llama2.c's file order, the freq_cis tables as None; the shared classifier has none."""
    hs = c["dim"] // c["n_heads"]
    d, h, L, kv = c["dim"], c["hidden_dim"], c["n_layers"], c["n_kv_heads"] * hs
    per_layer = [("attention_norm.weight", (d,)), ("wq.weight", (c["n_heads"] * hs, d)), ("wk.weight", (kv, d)),
                 ("wv.weight", (kv, d)), ("wo.weight", (d, c["n_heads"] * hs)), ("ffn_norm.weight", (d,)),
                 ("w1.weight", (h, d)), ("w2.weight", (d, h)), ("w3.weight", (h, d))]
    out = [("tok.weight", (c["vocab_size"], d))]
    for name, shape in per_layer:
        out += [("layers.%d.%s" % (i, name), shape) for i in range(L)]
    out += [("norm.weight", (d,)), (None, (2 * (c["seq_len"] * hs // 2),))]
    return out


def load(path):
    c = reference_config(path)
    with open(path, "rb") as f:
        header = f.read(28)
        if struct.unpack("7i", header)[5] < 0:
            sys.exit("%s: an unshared classifier is not supported by this tool" % path)
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    model = Student(c)
    params = dict(model.named_parameters())
    at = 0
    spans = []
    for name, shape in tensor_layout(c):
        n = 1
        for s in shape:
            n *= s
        if name is not None:
            with torch.no_grad():
                params[name].copy_(flat[at:at + n].view(shape))
            spans.append((name, at, n))
        at += n
    if at != flat.numel():
        sys.exit("%s: %d floats where the header implies %d" % (path, flat.numel(), at))
    return c, header, flat, model, spans


def held_out(path, seq_len):
    docs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            ids = rec if isinstance(rec, list) else rec.get("ids")
            if ids is None:  # the predictions header
                continue
            if len(ids) > 1:
                docs.append([BOS] + ids[: seq_len - 1])
    if not docs:
        sys.exit("%s: no held-out documents" % path)
    return docs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="the proxy, llama2.c .bin (shared classifier)")
    p.add_argument("--held-out", required=True, help="held-out teacher text as token ids (JSONL)")
    p.add_argument("--out", required=True, help="directory for plus.bin, minus.bin and eps.txt")
    p.add_argument("--eps", type=float, default=0.01, help="step along the unit gradient, > 0")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if not (args.eps > 0 and args.eps < float("inf")):
        sys.exit("--eps must be a positive finite number")
    torch.set_num_threads(args.threads)
    c, header, flat, model, spans = load(args.model)
    docs = held_out(args.held_out, c["seq_len"])
    # The mean loss over every held-out token: documents in padded batches, the padding ignored.
    total = sum(len(d) - 1 for d in docs)
    for at in range(0, len(docs), 32):
        x = torch.nn.utils.rnn.pad_sequence([torch.tensor(d) for d in docs[at:at + 32]], batch_first=True,
                                            padding_value=-1)
        inp, tgt = x[:, :-1].clamp(min=0), x[:, 1:]
        loss = F.cross_entropy(model(inp).reshape(-1, c["vocab_size"]), tgt.reshape(-1), ignore_index=-1,
                               reduction="sum") / total
        loss.backward()
    params = dict(model.named_parameters())
    g = torch.zeros_like(flat)
    for name, at, n in spans:
        g[at:at + n] = params[name].grad.reshape(-1)
    norm = float(g.norm())
    if not norm > 0:
        sys.exit("the held-out loss has a zero gradient")
    g /= norm
    os.makedirs(args.out, exist_ok=True)
    for name, sign in (("plus.bin", 1.0), ("minus.bin", -1.0)):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(header)
            f.write((flat + sign * args.eps * g).numpy().tobytes())
    with open(os.path.join(args.out, "eps.txt"), "w") as f:
        f.write(repr(args.eps) + "\n")
    print(json.dumps({"held_out_documents": len(docs), "held_out_tokens": total,
                      "held_out_loss": held_loss(model, docs, c),
                      "gradient_norm": norm, "eps": args.eps, "out": args.out}))


@torch.no_grad()
def held_loss(model, docs, c):
    total, n = 0.0, 0
    for at in range(0, len(docs), 32):
        x = torch.nn.utils.rnn.pad_sequence([torch.tensor(d) for d in docs[at:at + 32]], batch_first=True,
                                            padding_value=-1)
        inp, tgt = x[:, :-1].clamp(min=0), x[:, 1:]
        total += float(F.cross_entropy(model(inp).reshape(-1, c["vocab_size"]), tgt.reshape(-1), ignore_index=-1,
                                       reduction="sum"))
        n += int((tgt >= 0).sum())
    return total / n


if __name__ == "__main__":
    main()
