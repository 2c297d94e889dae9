"""The antidistillation adjustment through the binding: added before the bias, nothing without it, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import VOCAB, bits, make_hook, random_logits


def prepared(hook, n: int):
    seqs = [hook.new_sequence(0, 1000 + r) for r in range(n)]
    for r, s in enumerate(seqs):
        s.extend([(5 * r + i) % VOCAB for i in range(6)])
    return seqs


def test_an_added_adjustment_equals_biasing_logits_that_already_hold_it(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(3, seed=1)
    adj = random_logits(3, seed=2)
    by_hand = (x + np.float32(0.5) * adj).astype(np.float32)
    hook.bias(prepared(hook, 3), by_hand)
    got = x.copy()
    hook.bias(prepared(hook, 3), got, adjustment=adj, lambda_=0.5)
    assert np.array_equal(bits(got), bits(by_hand))


def test_a_zero_lambda_leaves_the_bias_bit_identical(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(2, seed=3)
    plain, zero = x.copy(), x.copy()
    hook.bias(prepared(hook, 2), plain)
    hook.bias(prepared(hook, 2), zero, adjustment=random_logits(2, seed=4), lambda_=0.0)
    assert np.array_equal(bits(plain), bits(zero))


def test_bad_adjustments_raise_value_errors(keys) -> None:
    hook = make_hook(keys, "kgw")
    x = random_logits(2, seed=5)
    with pytest.raises(ValueError, match="lambda"):
        hook.bias(prepared(hook, 2), x, adjustment=random_logits(2), lambda_=float("nan"))
    with pytest.raises(ValueError, match="entries"):
        hook.bias(prepared(hook, 2), x, adjustment=random_logits(2, vocab=VOCAB - 1), lambda_=1.0)
    with pytest.raises(ValueError, match="adjustment_kind"):
        hook.choose(prepared(hook, 2), x, adjustment=random_logits(2), lambda_=1.0, adjustment_kind="poison")
    with pytest.raises(NotImplementedError, match="green set"):
        gumbel = make_hook(keys, "gumbel")
        q = np.full((2, VOCAB), 1.0 / VOCAB, dtype=np.float32)
        gumbel.choose(prepared(gumbel, 2), x, adjustment=q, lambda_=1.0, adjustment_kind="green_aligned")
