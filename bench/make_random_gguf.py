#!/usr/bin/python3
"""Writes a GGUF model of a production shape with random Q8_0 weights, for bench/llama_throughput.py: decode cost
depends on the shape, not on the weights. Default shape: Qwen2.5-0.5B's (vocabulary 151,936, hidden 896, 24 layers,
14 query / 2 key-value heads, feed-forward 4,864, tied embeddings; 494M parameters) as a llama-architecture model with
a SentencePiece-style vocabulary of placeholder pieces. Uses the release's own gguf-py (scripts/llama-cpp dir).

usage: bench/make_random_gguf.py OUT.gguf [--vocab N] [--layers N] [--seed N]   (Debian's python3, with numpy)
"""
import argparse
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def q8_0(rng, rows, cols, std):
    """Random Q8_0 blocks: per 32 weights an fp16 scale and 32 int8, so that the weights have about `std`."""
    blocks = cols // 32
    out = np.empty((rows, blocks, 34), dtype=np.uint8)
    scale = np.float16(std / 73.3)  # int8 uniform on [-127, 127] has a standard deviation of 73.3
    out[:, :, 0:2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
    out[:, :, 2:] = rng.integers(-127, 128, size=(rows, blocks, 32), dtype=np.int8).view(np.uint8)
    return out.reshape(rows, blocks * 34)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=151936)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cache = subprocess.run([os.path.join(ROOT, "scripts/llama-cpp"), "dir"], check=True, capture_output=True,
                           text=True).stdout.strip()
    sys.path.insert(0, os.path.join(cache, "src", "gguf-py"))
    import gguf  # noqa: E402 (the release's own writer)

    n_embd, n_head, n_kv, n_ff, head_dim = 896, 14, 2, 4864, 64
    rng = np.random.default_rng(args.seed)
    w = gguf.GGUFWriter(args.out, "llama")
    w.add_context_length(4096)
    w.add_embedding_length(n_embd)
    w.add_block_count(args.layers)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581w{i}" for i in range(args.vocab - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (args.vocab - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([-float(i) for i in range(args.vocab)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    q8 = gguf.GGMLQuantizationType.Q8_0
    std = n_embd ** -0.5
    w.add_tensor("token_embd.weight", q8_0(rng, args.vocab, n_embd, 1.0), raw_dtype=q8)
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    for i in range(args.layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", q8_0(rng, n_head * head_dim, n_embd, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.attn_k.weight", q8_0(rng, n_kv * head_dim, n_embd, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.attn_v.weight", q8_0(rng, n_kv * head_dim, n_embd, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.attn_output.weight", q8_0(rng, n_embd, n_head * head_dim, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", q8_0(rng, n_ff, n_embd, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.ffn_up.weight", q8_0(rng, n_ff, n_embd, std), raw_dtype=q8)
        w.add_tensor(f"blk.{i}.ffn_down.weight", q8_0(rng, n_embd, n_ff, n_ff ** -0.5), raw_dtype=q8)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
