"""Model-aware detection and attribution from Python (ModelAwareDetector, Attributor, Tokenizer): the same numbers
`telltale detect --model` and `telltale attribute [--model]` print for the same story under a fixed key, weights that
never read the key, and the command line's one-line refusals as Python exceptions."""

from __future__ import annotations

import json
import pathlib
import struct
import subprocess

import numpy as np
import pytest

import telltale
from conftest import SHARED, telltale_binary

MODEL = SHARED / "models" / "stories260K" / "stories260K.bin"
TOKENIZER = SHARED / "models" / "stories260K" / "tok512.model"
MODEL_SHA256 = "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"


def fixed_key(seed: int) -> telltale.KeyRing:
    """tests/verify_test_support.hpp's fixed_key: byte i of the secret is seed + i."""
    return telltale.KeyRing.from_secret(bytes((seed + i) % 256 for i in range(32)))


def run(*args: object, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(telltale_binary()), *[str(a) for a in args]], cwd=cwd, capture_output=True, text=True,
                          check=False)


def small_model(vocab: int) -> bytes:
    """A well-formed llama2.c model (all weights zero) of `vocab` ids: dim 8, one layer, one head, context 16."""
    dim = hidden = head = 8
    layers, seq_len = 1, 16
    floats = vocab * dim + layers * (dim + dim * dim + 2 * dim * head + dim * dim + dim + 3 * dim * hidden) + dim \
        + seq_len * head
    return struct.pack("<7i", dim, hidden, layers, 1, 1, vocab, seq_len) + bytes(4 * floats)


@pytest.fixture(scope="module")
def tokenizer() -> telltale.Tokenizer:
    return telltale.Tokenizer(str(TOKENIZER))


def story(d: pathlib.Path, key_seed: int, *generate_args: object) -> str:
    fixed_key(key_seed).save(str(d / "k.key"))
    g = run("generate", "-m", MODEL, "-t", TOKENIZER, "-k", "k.key", *generate_args, cwd=d)
    assert g.returncode == 0, g.stderr
    (d / "story.txt").write_text(g.stdout)
    return g.stdout


# ---- detection ----

@pytest.mark.parametrize("scheme,weight", [("kgw", "expected-gain"), ("kgw", "spike-entropy"),
                                           ("tournament", "expected-gain")])
def test_detect_gives_the_numbers_detect_model_prints_for_the_same_story(
        tmp_path: pathlib.Path, tokenizer: telltale.Tokenizer, scheme: str, weight: str) -> None:
    text = story(tmp_path, 0x61, "--scheme", scheme, "-n", "200", "--seed", "5")
    fixed_key(0x70).save(str(tmp_path / "other.key"))
    cli = run("detect", "-q", "--per-doc", "--scheme", scheme, "-k", "k.key", "-k", "other.key", "-t", TOKENIZER,
              "--model", MODEL, "--weight", weight, "story.txt", cwd=tmp_path)
    assert cli.returncode in (0, 1), cli.stderr
    doc_line, summary = (json.loads(line) for line in cli.stdout.splitlines())

    detector = telltale.ModelAwareDetector([fixed_key(0x61), fixed_key(0x70)], telltale.Params(scheme, 512),
                                           str(MODEL), weight=weight, tokenizer=tokenizer)
    result = detector.detect(text)
    # The same library code on the same ids: the same JSON, number for number.
    assert result == doc_line["model_aware"]
    assert result == summary["model_aware"]
    assert result["p_value"] == summary["p_value"] and result["detected"] == summary["detected"]
    assert detector.detect(tokenizer.encode(text)) == result
    assert result["weights"]["model_sha256"] == MODEL_SHA256 and result["weights"]["kind"] == weight
    assert detector.weights == result["weights"]
    first, second = result["analyses"]
    assert first["total_weight"] == second["total_weight"]
    assert first["log10_p_value"] < -6, "the story's own key should find it (fixed key 0x61, seed 5)"
    assert second["log10_p_value"] > -3, "an unrelated key should not"


def test_the_weights_never_read_the_key(tokenizer: telltale.Tokenizer) -> None:
    ids = tokenizer.encode("Once upon a time, there was a little girl named Lily. She loved to play in the park "
                           "with her big red ball. One day, the sun was hot and she was thirsty.")
    params = telltale.Params("kgw", 512)
    a = telltale.ModelAwareDetector(fixed_key(1), params, str(MODEL))
    b = telltale.ModelAwareDetector(fixed_key(2), params, str(MODEL))
    wa, wb = a.weigh(ids), b.weigh(ids)
    assert wa.dtype == np.uint32 and len(wa) == len(ids)
    assert np.array_equal(wa, wb)
    assert wa.max() <= a.weights["grid"] and wa.min() < wa.max()
    # The statistic's null mean is the key-independent weight: equal under both keys, the statistics not.
    ra, rb = a.detect(ids), b.detect(ids)
    assert ra["analyses"][0]["total_weight"] == rb["analyses"][0]["total_weight"]
    assert ra["analyses"][0]["expected"] == rb["analyses"][0]["expected"]


def test_the_prompt_and_de_duplication_follow_the_plain_rules(tokenizer: telltale.Tokenizer) -> None:
    ids = tokenizer.encode("The cat sat on the mat. The cat sat on the mat. The cat sat on the mat.")
    params = telltale.Params("kgw", 512)
    d = telltale.ModelAwareDetector(fixed_key(3), params, str(MODEL))
    d_all = telltale.ModelAwareDetector(fixed_key(3), params, str(MODEL), dedup=False)
    scored = d.detect(ids)["scored_tuples"]
    assert scored < d_all.detect(ids)["scored_tuples"] == len(ids) - params.context_width
    assert d.detect(ids, prompt_tokens=8)["scored_tuples"] < scored


# ---- attribution ----

def registry_of(d: pathlib.Path) -> list[int]:
    ids = [77, *range(1000, 3000)]
    (d / "reg.txt").write_text("".join(f"{i}\n" for i in ids))
    return ids


@pytest.mark.parametrize("model_aware", [True, False])
def test_attribute_gives_the_numbers_attribute_prints_for_the_same_story(
        tmp_path: pathlib.Path, tokenizer: telltale.Tokenizer, model_aware: bool) -> None:
    text = story(tmp_path, 0x62, "--scheme", "fingerprint", "--account", "77", "-n", "300", "--seed", "21")
    registry = registry_of(tmp_path)
    model_args = ["--model", MODEL] if model_aware else []
    cli = run("attribute", "-q", "--per-doc", "-k", "k.key", "-t", TOKENIZER, "-r", "reg.txt", *model_args,
              "story.txt", cwd=tmp_path)
    assert cli.returncode in (0, 1), cli.stderr
    doc_line, summary = (json.loads(line) for line in cli.stdout.splitlines())

    attributor = telltale.Attributor(fixed_key(0x62), telltale.Params("fingerprint", 512), registry,
                                     model=str(MODEL) if model_aware else None, tokenizer=tokenizer)
    result = attributor.attribute(text)
    expected = {k: v for k, v in doc_line.items() if k not in ("source", "line", "index", "zero_bit")}
    assert {k: v for k, v in result.items() if k != "model_aware"} == expected
    assert result["family"] == len(registry)
    if model_aware:
        assert result["weighted"] is True and isinstance(result["exact"], bool)
        assert result["model_aware"]["weights"] == summary["model_aware"]["weights"]
        assert result["attributed"] == [77], "fixed key 0x62, seed 21: attributed by the model-aware test"
    else:
        assert "weighted" not in result and "model_aware" not in result


# ---- refusals: the command line's one-line messages ----

def test_a_model_whose_vocabulary_does_not_match_is_refused_as_the_cli_refuses_it(tmp_path: pathlib.Path) -> None:
    (tmp_path / "small.bin").write_bytes(small_model(100))
    (tmp_path / "t.txt").write_text("Once upon a time there was a little dog.")
    fixed_key(4).save(str(tmp_path / "k.key"))
    (tmp_path / "reg.txt").write_text("77\n")
    message = "the model's vocabulary (100 ids) does not match the tokenizer's (512 ids)"
    cli = run("detect", "-q", "-k", "k.key", "-t", TOKENIZER, "--model", "small.bin", "t.txt", cwd=tmp_path)
    assert cli.returncode == 2 and cli.stderr.count("\n") == 1 and message in cli.stderr
    cli = run("attribute", "-q", "-k", "k.key", "-t", TOKENIZER, "-r", "reg.txt", "--model", "small.bin", "t.txt",
              cwd=tmp_path)
    assert cli.returncode == 2 and message in cli.stderr
    small = str(tmp_path / "small.bin")
    with pytest.raises(ValueError) as e:
        telltale.ModelAwareDetector(fixed_key(4), telltale.Params("kgw", 512), small)
    assert str(e.value) == message
    with pytest.raises(ValueError) as e:
        telltale.Attributor(fixed_key(4), telltale.Params("fingerprint", 512), [77], model=small)
    assert str(e.value) == message


def test_a_bad_weight_kind_is_refused_as_the_cli_refuses_it(tmp_path: pathlib.Path) -> None:
    fixed_key(4).save(str(tmp_path / "k.key"))
    (tmp_path / "t.txt").write_text("Once upon a time there was a little dog.")
    cli = run("detect", "-q", "-k", "k.key", "-t", TOKENIZER, "--model", MODEL, "--weight", "entropy", "t.txt",
              cwd=tmp_path)
    assert cli.returncode == 2 and cli.stderr.count("\n") == 1
    with pytest.raises(ValueError) as e:
        telltale.ModelAwareDetector(fixed_key(4), telltale.Params("kgw", 512), str(MODEL), weight="entropy")
    assert "weight must be expected-gain or spike-entropy, not 'entropy'" == str(e.value)
    assert "--" + str(e.value) in cli.stderr
    cli = run("detect", "-q", "-k", "k.key", "-t", TOKENIZER, "--scheme", "gumbel", "--model", MODEL, "--weight",
              "spike-entropy", "t.txt", cwd=tmp_path)
    assert cli.returncode == 2
    with pytest.raises(ValueError) as e:
        telltale.ModelAwareDetector(fixed_key(4), telltale.Params("gumbel", 512), str(MODEL), weight="spike-entropy")
    assert str(e.value) in cli.stderr and "red/green" in str(e.value)


def test_other_bad_inputs_raise_one_line_errors(tokenizer: telltale.Tokenizer) -> None:
    params = telltale.Params("kgw", 512)
    with pytest.raises(OSError):
        telltale.ModelAwareDetector(fixed_key(4), params, "/nonexistent/model.bin")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        telltale.ModelAwareDetector(fixed_key(4), params, str(MODEL), temperature=0.0)
    with pytest.raises(ValueError, match="does not match params.vocab_size"):
        telltale.ModelAwareDetector(fixed_key(4), telltale.Params("kgw", 1000), str(MODEL), tokenizer=tokenizer)
    with pytest.raises(ValueError, match="at least one key"):
        telltale.ModelAwareDetector([], params, str(MODEL))
    detector = telltale.ModelAwareDetector(fixed_key(4), params, str(MODEL))
    with pytest.raises(ValueError, match="needs a tokenizer"):
        detector.detect("some text")
    with pytest.raises(ValueError, match="alpha must be in"):
        detector.detect([1, 2, 3, 4, 5, 6], alpha=0.0)
    with pytest.raises(ValueError, match="need a model"):
        telltale.Attributor(fixed_key(4), telltale.Params("fingerprint", 512), [77], weight="spike-entropy")
    with pytest.raises(ValueError, match="fingerprint"):
        telltale.Attributor(fixed_key(4), params, [77])
    with pytest.raises(ValueError, match="duplicate"):
        telltale.Attributor(fixed_key(4), telltale.Params("fingerprint", 512), [77, 77])
    # Out-of-vocabulary ids are scored as the plain test scores them; the model is fed BOS in their place.
    assert detector.detect([600, 3, 4, 5, 6, 7, 8])["scored_tuples"] == 3
