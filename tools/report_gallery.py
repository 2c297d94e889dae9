#!/usr/bin/env python3
# Renders one evidence report per scheme and test kind (bundles made by the built `telltale` from the reference model)
# to PNG screenshots for docs/report-gallery.md: what a court would see, from the verdict to the plots (the parameter
# and provenance tables and the appendix are left out of the picture).
# Usage: tools/report_gallery.py BUILD_DIR OUT [NAME...] (only the named pictures, e.g. radioactivity-closed-words).
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("TELLTALE_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
MODEL = os.path.join(SHARED, "models", "stories260K", "stories260K.bin")
TOK = os.path.join(SHARED, "models", "stories260K", "tok512.model")
SHAKESPEARE = os.path.join(SHARED, "corpora", "tinyshakespeare.txt")
CHROMIUM_TIMEOUT_S = 120


def run(telltale, work, args, ok=(0,)):
    r = subprocess.run([telltale] + args, cwd=work, capture_output=True, text=True, timeout=600)
    if r.returncode not in ok:
        sys.exit("telltale %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def generate(telltale, work, scheme, seed, count=1, extra=()):
    return run(telltale, work, ["generate", "--key", "wm.key", "-m", MODEL, "-t", TOK, "-n", "300", "--top-p", "1",
                                "--jsonl", "--count", str(count), "--seed", str(seed)] + scheme + list(extra))


def write(work, name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)


def detection(telltale, work, name, scheme, window=()):
    """Two watermarked stories and a stretch of Shakespeare, each a document of its own."""
    os.makedirs(os.path.join(work, name))
    write(work, name + "/stories.jsonl", generate(telltale, work, scheme, 7, 2))
    with open(SHAKESPEARE) as f:
        write(work, name + "/shakespeare.txt", f.read()[:6000])
    run(telltale, work, ["detect", "-q", "--key", "wm.key", "-t", TOK, "--field", "completion", "--bundle",
                         name + "/bundle", "--signing-key", "sign.key", name] + scheme + list(window), ok=(0, 1))
    return name + "/bundle"


def attribution(telltale, work):
    scheme = ["--scheme", "fingerprint"]
    os.makedirs(os.path.join(work, "attr"))
    write(work, "attr/texts.jsonl",
          generate(telltale, work, scheme, 3, 2, ["--account", "77"]) +
          generate(telltale, work, scheme, 9, 1, ["--account", "4000"]))
    write(work, "attr/reg.txt", "".join("%d\n" % a for a in [77, 4000] + list(range(1000, 1100))))
    run(telltale, work, ["attribute", "-q", "--key", "wm.key", "-t", TOK, "-r", "attr/reg.txt", "-f", "completion",
                         "--bundle", "attr/bundle", "--signing-key", "sign.key", "attr/texts.jsonl"], ok=(0, 1))
    return "attr/bundle"


def radioactivity(telltale, work, mode):
    d = "radio-" + mode
    os.makedirs(os.path.join(work, d))
    stories = generate(telltale, work, [], 5, 3)
    write(work, d + "/wm.jsonl", stories)
    run(telltale, work, ["radioactivity", "filter", "-t", TOK, "-f", "completion", "--out", d + "/t.ttcf",
                         d + "/wm.jsonl"])
    if mode == "open":
        # A suspect that memorised the watermarked stories: it predicts each next token of them.
        run(telltale, work, ["radioactivity", "predict", "-m", MODEL, "-t", TOK, "-f", "completion", "--out",
                             d + "/p.jsonl", d + "/wm.jsonl"])
        lines = open(os.path.join(work, d, "p.jsonl")).read().splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            r = json.loads(line)
            r["positions"] = list(range(1, len(r["ids"])))
            r["predicted"] = [[t] for t in r["ids"][1:]]
            r.pop("logprobs", None)
            out.append(json.dumps(r))
        write(work, d + "/suspect.jsonl", "\n".join(out) + "\n")
        source = ["--predictions", d + "/suspect.jsonl"]
    else:
        # A suspect whose answers are the watermarked stories themselves; "closed-words": through an API whose
        # tokenizer is not ours (one token per word with its space, each its own top logprob), scored by probability.
        answers = []
        for line in stories.splitlines():
            answer = {"prompt": "Once upon a time", "response": json.loads(line)["completion"]}
            if mode == "closed-words":
                words = answer["response"].replace(" ", "\0 ").split("\0")
                answer["logprobs"] = [{"token": w, "logprob": -0.1, "top_logprobs": [{"token": w, "logprob": -0.1}]}
                                      for w in words if w]
            answers.append(json.dumps(answer))
        write(work, d + "/answers.jsonl", "\n".join(answers) + "\n")
        source = ["--answers", d + "/answers.jsonl"] + (["--score", "probability"] if mode == "closed-words" else [])
    run(telltale, work, ["radioactivity", "score", "--key", "wm.key", "-t", TOK, "--filter", d + "/t.ttcf",
                         "--bundle", d + "/bundle", "--signing-key", "sign.key"] + source, ok=(0, 1))
    return d + "/bundle"


def screenshot(chromium, html, png, work, height):
    """The report up to its parameters table, at 760 px wide and `height` px high."""
    with open(html) as f:
        page = f.read()
    cut = os.path.join(work, "cut.html")
    with open(cut, "w") as f:
        f.write(page[:page.index("<h2>Parameters</h2>")] + "</body></html>\n")
    profile = tempfile.mkdtemp(dir=work)
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--proxy-server=127.0.0.1:9", "--user-data-dir=" + profile,
                    "--hide-scrollbars", "--force-device-scale-factor=0.8", "--window-size=760,%d" % height,
                    "--screenshot=" + png, "file://" + cut], check=True, capture_output=True,
                   timeout=CHROMIUM_TIMEOUT_S)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: tools/report_gallery.py BUILD_DIR OUT_DIR [NAME...]")
    telltale = os.path.abspath(os.path.join(sys.argv[1], "verify", "telltale"))
    out = os.path.abspath(sys.argv[2])
    chromium = shutil.which("chromium") or sys.exit("chromium is not installed (Debian package chromium)")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="telltale-gallery-")
    try:
        run(telltale, work, ["keygen", "--out", "wm.key"])
        run(telltale, work, ["keygen", "--signing", "--out", "sign.key"])
        makers = {
            "detection-kgw": lambda: detection(telltale, work, "kgw", [], ["--window", "16"]),
            "detection-gumbel": lambda: detection(telltale, work, "gumbel", ["--scheme", "gumbel"]),
            "detection-tournament": lambda: detection(telltale, work, "tour", ["--scheme", "tournament"]),
            "detection-tournament-weighted": lambda: detection(
                telltale, work, "tourw", ["--scheme", "tournament", "--tournament-score", "weighted-mean"]),
            "detection-fingerprint": lambda: detection(telltale, work, "fp", ["--scheme", "fingerprint"],
                                                       ["--window", "16"]),
            "attribution": lambda: attribution(telltale, work),
            "radioactivity-open": lambda: radioactivity(telltale, work, "open"),
            "radioactivity-closed": lambda: radioactivity(telltale, work, "closed"),
            "radioactivity-closed-words": lambda: radioactivity(telltale, work, "closed-words"),
        }
        names = sys.argv[3:] or list(makers)
        unknown = [n for n in names if n not in makers]
        if unknown:
            sys.exit("unknown picture %s (known: %s)" % (", ".join(unknown), ", ".join(makers)))
        bundles = {name: makers[name]() for name in names}
        for name, bundle in bundles.items():
            html = os.path.join(work, bundle, "report.html")
            if os.environ.get("TELLTALE_GALLERY_KEEP_HTML"):
                shutil.copy(html, os.path.join(out, name + ".html"))
            png = os.path.join(out, name + ".png")
            screenshot(chromium, html, png, work, 3900 if name.startswith("detection") else 3000)
            print(png)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
