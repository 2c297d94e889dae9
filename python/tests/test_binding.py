"""The _telltale binding itself: keys, parameters, in-place zero-copy edits, errors, and the detector."""

from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

import telltale
from conftest import VOCAB, bits, make_hook, needs_torch, random_logits


def prepared(hook: telltale.Hook, n: int, prompt_len: int = 6, account: int = 0) -> list[telltale.Sequence]:
    seqs = [hook.new_sequence(account + r, 1000 + r) for r in range(n)]
    for r, s in enumerate(seqs):
        s.extend([(7 * r + i) % VOCAB for i in range(prompt_len)])
    return seqs


# ---- keys and parameters ----

def test_a_saved_key_loads_back_with_the_same_key_id_and_private_permissions(tmp_path) -> None:
    keys = telltale.KeyRing.generate()
    path = tmp_path / "k.key"
    keys.save(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert telltale.KeyRing.load(str(path)).key_id == keys.key_id
    assert len(keys.key_id) == 64 and int(keys.key_id, 16) >= 0


def test_saving_over_an_existing_key_file_is_refused(tmp_path) -> None:
    path = tmp_path / "k.key"
    telltale.KeyRing.generate().save(str(path))
    with pytest.raises(OSError, match="already exists"):
        telltale.KeyRing.generate().save(str(path))


def test_a_group_readable_key_file_is_refused_as_a_key_file_error(tmp_path) -> None:
    path = tmp_path / "k.key"
    telltale.KeyRing.generate().save(str(path))
    os.chmod(path, 0o640)
    with pytest.raises(telltale.KeyFileError, match="permissions"):
        telltale.KeyRing.load(str(path))
    assert issubclass(telltale.KeyFileError, OSError) and issubclass(telltale.KeyFileError, ValueError)


def test_a_missing_key_file_is_an_oserror() -> None:
    with pytest.raises(OSError, match="cannot open"):
        telltale.KeyRing.load("/nonexistent/telltale.key")


def test_from_secret_is_deterministic_and_checks_length() -> None:
    assert telltale.KeyRing.from_secret(bytes(32)).key_id == telltale.KeyRing.from_secret(bytes(32)).key_id
    with pytest.raises(telltale.KeyFileError, match="32 bytes"):
        telltale.KeyRing.from_secret(b"short")


def test_params_start_from_the_scheme_defaults_and_take_overrides() -> None:
    p = telltale.Params("kgw", VOCAB, gamma=0.5, delta=3.0, context_width=2, self_hash=True)
    assert (p.scheme, p.vocab_size, p.gamma, p.delta, p.context_width, p.self_hash) == ("kgw", VOCAB, 0.5, 3.0, 2, True)
    assert "gamma=0.5" in p.describe()
    assert telltale.Params("gumbel", VOCAB).skip_repeated_contexts
    assert telltale.Params("tournament", VOCAB, layers=8).layers == 8
    weighted = telltale.Params("tournament", VOCAB, tournament_score="weighted-mean")
    assert weighted.tournament_score == "weighted-mean" and "score=weighted-mean" in weighted.describe()
    assert telltale.Params("tournament", VOCAB).tournament_score == "mean"


def test_params_keywords_and_properties_are_the_scheme_tables_fields() -> None:
    p = telltale.Params("fingerprint", VOCAB, account_delta=1.5, gamma=None)
    assert (p.account_delta, p.gamma) == (1.5, 0.25)
    p.layers = 12
    assert p.layers == 12
    with pytest.raises(TypeError, match="unexpected keyword argument 'fingerprint_delta'"):
        telltale.Params("fingerprint", VOCAB, fingerprint_delta=1.5)
    with pytest.raises(TypeError, match="layers must be a non-negative int"):
        telltale.Params("tournament", VOCAB, layers="many")
    with pytest.raises(TypeError, match="delta must be a float"):
        p.delta = "big"


def test_invalid_params_raise_valueerror_naming_the_parameter(keys) -> None:
    with pytest.raises(ValueError, match="unknown scheme"):
        telltale.Params("nope", VOCAB)
    with pytest.raises(ValueError, match="unknown tournament score"):
        telltale.Params("tournament", VOCAB, tournament_score="median")
    with pytest.raises(ValueError, match="gamma"):
        telltale.Hook(keys, telltale.Params("kgw", VOCAB, gamma=1.5))
    with pytest.raises(ValueError, match="context_width"):
        telltale.Params("kgw", VOCAB, context_width=17).validate()


# ---- the hook on NumPy arrays ----

def test_bias_edits_the_numpy_buffer_in_place_without_a_copy(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(3)
    before = x.copy()
    address = x.__array_interface__["data"][0]
    returned = hook.bias(prepared(hook, 3), x)
    assert returned is x
    assert x.__array_interface__["data"][0] == address
    changed = x != before
    assert changed.any()
    np.testing.assert_allclose(x[changed] - before[changed], 2.0, rtol=1e-5)  # delta, on green ids only


def test_fingerprint_bias_adds_the_zero_bit_and_the_account_layer_per_row(keys) -> None:
    hook = make_hook(keys, "fingerprint", account_delta=3.0)
    assert telltale.Params("fingerprint", VOCAB, account_delta=3.0).account_delta == 3.0
    x = np.zeros((2, VOCAB), dtype=np.float32)
    hook.bias(prepared(hook, 2, account=4000000000), x)
    # Each id gets 0, 2 (green), 3 (the account's half) or 5 (both); about half of the ids are in the account's half.
    assert set(np.unique(x).tolist()) <= {0.0, 2.0, 3.0, 5.0}
    assert 0.3 < np.isin(x, [3.0, 5.0]).mean() < 0.7
    with pytest.raises(ValueError):
        hook.new_sequence(2**32, 0)


def test_a_view_of_wider_rows_is_edited_through_its_row_stride(keys) -> None:
    hook = make_hook(keys, "kgw")
    wide = random_logits(2, VOCAB + 64)
    expected = np.ascontiguousarray(wide[:, :VOCAB])
    hook.bias(prepared(hook, 2), expected)
    view = wide[:, :VOCAB]  # not C-contiguous, but each row is
    tail = wide[:, VOCAB:].copy()
    hook.bias(prepared(hook, 2), view)
    assert np.array_equal(bits(wide[:, :VOCAB]), bits(expected))
    assert np.array_equal(bits(wide[:, VOCAB:]), bits(tail))


def test_a_none_row_is_left_alone(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(2)
    before = x.copy()
    hook.bias([prepared(hook, 1)[0], None], x)
    assert not np.array_equal(x[0], before[0])
    assert np.array_equal(bits(x[1]), bits(before[1]))


@pytest.mark.parametrize("scheme", ["kgw", "tournament"])  # gumbel has no bias form
def test_bias_is_a_pure_function_of_the_state_until_accept(keys, scheme) -> None:
    hook = make_hook(keys, scheme)
    seqs = prepared(hook, 2)
    x, y = random_logits(2), random_logits(2)
    hook.bias(seqs, x)
    hook.bias(seqs, y)  # apply may run twice on one step (llama.cpp grammar re-runs)
    assert np.array_equal(bits(x), bits(y))


def test_choose_returns_ids_and_mask_others_leaves_only_them(keys, scheme) -> None:
    hook = make_hook(keys, scheme)
    x = random_logits(4)
    chosen = hook.choose(prepared(hook, 4), x, None, True)
    assert chosen.dtype == np.int32 and chosen.shape == (4,)
    for r, t in enumerate(chosen):
        assert 0 <= t < VOCAB
        finite = np.flatnonzero(np.isfinite(x[r]))
        assert finite.tolist() == [t]


def test_choose_takes_explicit_uniforms_and_is_reproducible(keys) -> None:
    hook = make_hook(keys, "kgw")
    a = hook.choose(prepared(hook, 3), random_logits(3), np.array([0.1, 0.5, 0.9], np.float32))
    b = hook.choose(prepared(hook, 3), random_logits(3), [0.1, 0.5, 0.9])
    assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="uniforms"):
        hook.choose(prepared(hook, 3), random_logits(3), [0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        hook.choose(prepared(hook, 3), random_logits(3), [0.1, 1.5, 0.2])


def test_gumbel_bias_raises_notimplementederror_pointing_to_choose(keys) -> None:
    hook = make_hook(keys, "gumbel")
    with pytest.raises(NotImplementedError, match="use choose"):
        hook.bias(prepared(hook, 1), random_logits(1))


# ---- sequences ----

def test_a_sequence_keeps_the_last_h_tokens_and_counts_steps(keys) -> None:
    hook = make_hook(keys, "kgw", context_width=3)
    s = hook.new_sequence(account=42)
    s.extend([1, 2, 3, 4, 5])
    assert s.window == [3, 4, 5] and s.accepted == 5 and s.account == 42
    hook.bias([s], random_logits(1))
    s.accept(6)
    assert s.window == [4, 5, 6] and s.watermarked_steps == 1
    s.reset()
    assert s.window == [] and s.accepted == 0


def test_a_clone_is_independent_of_its_source(keys) -> None:
    hook = make_hook(keys, "kgw")
    s = prepared(hook, 1)[0]
    c = s.clone()
    s.accept(9)
    assert c.window != s.window
    x, y = random_logits(1), random_logits(1)
    c.accept(9)
    hook.bias([s], x)
    hook.bias([c], y)
    assert np.array_equal(bits(x), bits(y))


def test_a_sequence_from_another_hook_is_refused(keys, other_keys) -> None:
    a, b = make_hook(keys, "kgw"), make_hook(other_keys, "kgw")
    with pytest.raises(ValueError, match="another Hook"):
        a.bias([b.new_sequence()], random_logits(1))


def test_the_same_sequence_twice_in_one_call_is_refused(keys) -> None:
    hook = make_hook(keys, "kgw")
    s = hook.new_sequence()
    with pytest.raises(RuntimeError, match="already in use"):
        hook.bias([s, s], random_logits(2))
    hook.bias([s], random_logits(1))  # the flag was released by the failed call


def test_a_sequence_outlives_the_python_reference_to_its_hook(keys) -> None:
    hook = make_hook(keys, "kgw")
    s = hook.new_sequence()
    s.extend([1, 2, 3, 4])
    params = hook.params
    del hook
    again = telltale.Hook(keys, params)
    with pytest.raises(ValueError, match="another Hook"):
        again.bias([s], random_logits(1))  # still alive and still tied to its own hook


# ---- errors on bad logits ----

def test_wrong_dtype_is_a_typeerror(keys) -> None:
    hook = make_hook(keys, "kgw")
    with pytest.raises(TypeError, match="float32"):
        hook.bias(prepared(hook, 1), random_logits(1).astype(np.float64))


def test_non_contiguous_rows_are_a_valueerror(keys) -> None:
    hook = make_hook(keys, "kgw")
    with pytest.raises(ValueError, match="contiguous"):
        hook.bias(prepared(hook, 2), random_logits(VOCAB)[:, :2].T)
    with pytest.raises(ValueError, match="contiguous"):
        hook.bias(prepared(hook, 2), random_logits(2, 2 * VOCAB)[:, ::2])


def test_wrong_shapes_are_a_valueerror(keys) -> None:
    hook = make_hook(keys, "kgw")
    with pytest.raises(ValueError, match="2-D"):
        hook.bias(prepared(hook, 1), random_logits(1)[0])
    with pytest.raises(ValueError, match="one sequence"):
        hook.bias(prepared(hook, 2), random_logits(3))


def test_read_only_and_non_array_logits_are_refused(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(1)
    x.setflags(write=False)
    with pytest.raises(ValueError, match="writable"):
        hook.bias(prepared(hook, 1), x)
    with pytest.raises(TypeError, match="float32 CPU array"):
        hook.bias(prepared(hook, 1), [[0.0] * VOCAB])


# ---- threads ----

def test_threads_on_disjoint_rows_give_the_single_call_result(keys) -> None:
    hook = make_hook(keys, "tournament")
    n = 8
    expected = random_logits(n, seed=3)
    got = expected.copy()
    hook.bias(prepared(hook, n), expected)
    seqs = prepared(hook, n)

    def work(r: int) -> None:
        for _ in range(3):  # repeated: the result must not depend on interleaving
            row = got[r:r + 1]
            hook.bias([seqs[r]], row)
            row[...] = random_logits(n, seed=3)[r:r + 1]
        hook.bias([seqs[r]], got[r:r + 1])

    threads = [threading.Thread(target=work, args=(r,)) for r in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.array_equal(bits(got), bits(expected))


# ---- torch ----

@needs_torch
def test_a_torch_cpu_tensor_is_edited_in_place_through_dlpack(keys) -> None:
    import torch

    hook = make_hook(keys, "kgw")
    x = random_logits(3)
    t = torch.from_numpy(x.copy())
    address = t.data_ptr()
    returned = hook.bias(prepared(hook, 3), t)
    assert returned is t and t.data_ptr() == address
    hook.bias(prepared(hook, 3), x)
    assert np.array_equal(bits(t.numpy()), bits(x))


@needs_torch
def test_torch_choose_masks_in_place(keys) -> None:
    import torch

    hook = make_hook(keys, "gumbel")
    t = torch.from_numpy(random_logits(2))
    chosen = hook.choose(prepared(hook, 2), t, None, True)
    assert torch.isfinite(t).sum(dim=1).tolist() == [1, 1]
    assert [int(torch.argmax(t[r])) for r in range(2)] == chosen.tolist()


@needs_torch
def test_torch_errors_are_clear(keys) -> None:
    import torch

    hook = make_hook(keys, "kgw")
    with pytest.raises(TypeError, match="float32"):
        hook.bias(prepared(hook, 1), torch.zeros(1, VOCAB, dtype=torch.float64))
    with pytest.raises(ValueError, match="contiguous"):
        hook.bias(prepared(hook, 2), torch.zeros(VOCAB, 2).t())
    with pytest.raises(ValueError, match="__dlpack__"):
        hook.bias(prepared(hook, 1), torch.zeros(1, VOCAB, requires_grad=True))
    with pytest.raises(ValueError, match="2-D"):
        hook.bias(prepared(hook, 1), torch.zeros(VOCAB))


# ---- detector ----

def test_detector_scores_the_tokens_the_hook_favoured(keys) -> None:
    params = telltale.Params("kgw", VOCAB, delta=50.0)  # so large that every step picks a green id
    hook = telltale.Hook(keys, params)
    det = telltale.Detector(keys, params)
    seq = hook.new_sequence()
    tokens = [1, 2, 3, 4]
    seq.extend(tokens)
    for step in range(64):
        x = random_logits(1, seed=step)
        hook.bias([seq], x)
        t = int(np.argmax(x[0]))
        seq.accept(t)
        tokens.append(t)
    scores = det.score_sequence(tokens)
    assert scores.shape == (64,) and scores.min() == 1.0
    assert det.score(tokens[-5:-1], tokens[-1]) == 1.0
    assert telltale.green_fraction(det, tokens) == 1.0
    assert det.null_model() == {"kind": "bernoulli", "p": 0.25, "layers": 1}
    with pytest.raises(ValueError, match="window_size"):
        det.score([1, 2], 3)
