"""An OpenAI-compatible server on 127.0.0.1 for a bench student (issue 22, closed mode; bench only).

`POST /v1/chat/completions` continues the last user message's text (the student is a completion model: the message is
its prompt, the answer is what it writes next) and returns the answer with `logprobs`: at every answer token its
`token`, its `bytes` (the student tokenizer's piece, byte-fallback pieces as their one byte), its `logprob` and the
`top_logprobs` alternatives, as the OpenAI chat API does. `POST /v1/completions` (the legacy API, what
`radioactivity query --api completions` asks) continues `prompt` and returns `choices[0].text` with the legacy
`logprobs` object: `tokens`, `token_logprobs`, `top_logprobs` (one object token -> logprob per answer token, the
`logprobs` most likely; two ids with the same text keep the likelier) and `text_offset`. The legacy form has no bytes:
a byte-fallback piece that is not a whole UTF-8 character is sent as U+FFFD, as a server decoding it alone would. `temperature` 0 is greedy decoding, otherwise sampling at that
temperature from a torch generator seeded with the request's `seed` (random when absent); the logprobs reported are
the student's own (temperature 1). What answers is a function (prompt, max_tokens, temperature, seed, top_logprobs)
-> [(id, logprob, [(id, logprob), ...]), ...]: `sampler` makes one from a torch student; a test may give another.
Bad requests get HTTP 400 with an OpenAI-style error object.
"""
import json
import math
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

CONTROL_PIECES = ("<unk>", "<s>", "</s>", "<pad>")


def piece_bytes(model_path):
    """Each id's bytes in a SentencePiece model (spm_export_vocab, in id order): U+2581 is a space, <0xNN> its byte,
    control pieces nothing."""
    r = subprocess.run(["spm_export_vocab", "--model", model_path, "--output_format=vocab"], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("spm_export_vocab failed: " + r.stderr.decode(errors="replace").strip())
    out = []
    for line in r.stdout.decode("utf-8").split("\n"):
        if not line:
            continue
        piece = line.rsplit("\t", 1)[0]
        if piece in CONTROL_PIECES:
            out.append(b"")
        elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            out.append(bytes([int(piece[3:5], 16)]))
        else:
            out.append(piece.replace("\u2581", " ").encode("utf-8"))
    return out


def sampler(model, encode, bos=1):
    """An answer function for a torch student: `encode(text)` gives the prompt's ids in its tokenizer. Stops at the
    context length or at a control piece (unknown, BOS, EOS: no bytes to return)."""
    seq_len = model.c["seq_len"]

    @torch.no_grad()
    def complete(prompt, max_tokens, temperature, seed, top):
        g = torch.Generator()
        g.manual_seed(seed if seed is not None else int(time.time_ns()) & 0xFFFFFFFF)
        x = [bos] + encode(prompt)
        out = []
        while len(out) < max_tokens and len(x) < seq_len:
            lp = model(torch.tensor([x]))[0, -1].log_softmax(-1)
            if temperature == 0:
                t = int(lp.argmax())
            else:
                t = int(torch.multinomial((lp / temperature).softmax(-1), 1, generator=g))
            if t <= 2:
                break
            values, ids = lp.topk(top) if top else (lp[:0], lp[:0])
            out.append((t, min(0.0, float(lp[t])), [(int(i), min(0.0, float(v))) for i, v in zip(ids, values)]))
            x.append(t)
        return out

    return complete


def _entry(pieces, token_id, logprob):
    b = pieces[token_id]
    return {"token": b.decode("utf-8", errors="replace"), "bytes": list(b), "logprob": logprob}


def chat_reply(pieces, model_name, tokens, max_tokens):
    """The chat.completion object for the answer `tokens`; trailing tokens that leave the text short of whole UTF-8
    characters are dropped (a JSON string holds characters)."""
    while tokens:
        try:
            text = b"".join(pieces[t] for t, _, _ in tokens).decode("utf-8")
            break
        except UnicodeDecodeError:
            tokens = tokens[:-1]
    else:
        text = ""
    content = [dict(_entry(pieces, t, lp), top_logprobs=[_entry(pieces, i, v) for i, v in top])
               for t, lp, top in tokens]
    return {"id": "chatcmpl-student", "object": "chat.completion", "created": int(time.time()), "model": model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "length" if len(tokens) >= max_tokens else "stop",
                         "logprobs": {"content": content}}],
            "usage": {"completion_tokens": len(tokens)}}


def completion_reply(pieces, model_name, tokens, max_tokens, top):
    """The legacy text_completion object for the answer `tokens` (the /v1/completions form of chat_reply)."""
    text = b"".join(pieces[t] for t, _, _ in tokens).decode("utf-8", errors="replace")
    strings, offsets, at, alternatives = [], [], 0, []
    for t, _, alts in tokens:
        s = pieces[t].decode("utf-8", errors="replace")
        strings.append(s)
        offsets.append(at)
        at += len(s)
        best = {}
        for i, v in alts:
            key = pieces[i].decode("utf-8", errors="replace")
            best[key] = max(v, best.get(key, -math.inf))
        alternatives.append(best)
    logprobs = {"tokens": strings, "token_logprobs": [lp for _, lp, _ in tokens],
                "top_logprobs": alternatives if top else None, "text_offset": offsets}
    return {"id": "cmpl-student", "object": "text_completion", "created": int(time.time()), "model": model_name,
            "choices": [{"index": 0, "text": text, "logprobs": logprobs,
                         "finish_reason": "length" if len(tokens) >= max_tokens else "stop"}],
            "usage": {"completion_tokens": len(tokens)}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the query log is the record
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path.rstrip("/")
        if path not in ("/v1/chat/completions", "/v1/completions"):
            return self._send(404, {"error": {"message": "only /v1/chat/completions and /v1/completions are served"}})
        chat = path == "/v1/chat/completions"
        try:
            req = json.loads(body)
            prompt = req["messages"][-1]["content"] if chat else req["prompt"]
            max_tokens = int(req.get("max_tokens", 16))
            temperature = float(req.get("temperature", 1.0))
            if chat:
                top = int(req.get("top_logprobs", 0)) if req.get("logprobs") else 0
            else:
                top = int(req["logprobs"]) if req.get("logprobs") is not None else 0
            seed = req.get("seed")
            if not isinstance(prompt, str) or max_tokens < 1 or temperature < 0 or not 0 <= top <= 20:
                raise ValueError("bad prompt, max_tokens, temperature or top_logprobs")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            return self._send(400, {"error": {"message": "bad request: %s" % e}})
        srv = self.server
        tokens = srv.complete(prompt, max_tokens, temperature, None if seed is None else int(seed), top)
        with srv.lock:
            srv.requests += 1
        model = req.get("model", "student")
        if chat:
            return self._send(200, chat_reply(srv.pieces, model, tokens, max_tokens))
        # The legacy API asked for no logprobs (absent or null) answers without them.
        reply = completion_reply(srv.pieces, model, tokens, max_tokens, top)
        if req.get("logprobs") is None:
            reply["choices"][0]["logprobs"] = None
        self._send(200, reply)


def serve(complete, pieces):
    """Starts the server on 127.0.0.1 (a free port) in a daemon thread; returns it (`.url`, `.requests`; call
    `.shutdown()` then `.server_close()` when done)."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.complete, srv.pieces, srv.requests, srv.lock = complete, pieces, 0, threading.Lock()
    srv.url = "http://127.0.0.1:%d/v1" % srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
