"""telltale.hf.WatermarkLogitsProcessor, called exactly as transformers' generate() calls a user processor:
``scores = processor(input_ids, scores)`` once per step, with input_ids [batch, seq] growing by one column per step.
transformers is not installable here; StandInModel.generate reproduces the loop of its sampling path."""

from __future__ import annotations

import numpy as np
import pytest

import telltale
from conftest import HAVE_TORCH, VOCAB, BigramModel, bits, make_hook, needs_torch
from telltale.hf import WatermarkLogitsProcessor

BACKENDS = ["numpy", pytest.param("torch", marks=needs_torch)]


class StandInModel:
    """generate() in the shape of transformers' _sample: fresh float32 scores of the last position, the processor
    list, then greedy or multinomial sampling, then the new token appended to input_ids."""

    def __init__(self, backend: str, model: BigramModel | None = None) -> None:
        self.backend = backend
        self.model = model or BigramModel()

    def logits(self, input_ids: np.ndarray):
        rows = np.stack([self.model.next_logits(row) for row in input_ids])
        if self.backend == "torch":
            import torch

            return torch.from_numpy(rows)
        return rows

    def generate(self, input_ids, logits_processor, max_new_tokens: int, do_sample: bool = True,
                 temperature: float = 1.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        ids = np.asarray(input_ids, dtype=np.int64)
        for _ in range(max_new_tokens):
            current = ids
            if self.backend == "torch":
                import torch

                current = torch.from_numpy(ids.copy())
            scores = self.logits(ids)
            for processor in logits_processor:
                scores = processor(current, scores)
            s = np.array(scores, dtype=np.float64) if self.backend == "numpy" else scores.double().numpy()
            if do_sample:
                s = s / temperature
                p = np.exp(s - s.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                nxt = np.array([rng.choice(len(row), p=row) for row in p])
            else:
                nxt = s.argmax(axis=1)
            ids = np.concatenate([ids, nxt[:, None]], axis=1)
        return ids


class DirectHookProcessor:
    """The reference: the same per-row Sequence logic written straight against the Hook."""

    def __init__(self, hook: telltale.Hook, accounts: list[int], mode: str) -> None:
        self.hook, self.accounts, self.mode, self.seqs = hook, accounts, mode, None

    def __call__(self, input_ids, scores):
        ids = np.asarray(input_ids)
        if self.seqs is None:
            self.seqs = [self.hook.new_sequence(a, r) for r, a in enumerate(self.accounts)]
            for s, row in zip(self.seqs, ids):
                s.extend(row.tolist())
        else:
            for s, row in zip(self.seqs, ids):
                s.accept(int(row[-1]))
        x = np.array(scores, dtype=np.float32)
        if self.mode == "bias":
            self.hook.bias(self.seqs, x)
        else:
            self.hook.choose(self.seqs, x, None, True)
        if HAVE_TORCH and not isinstance(scores, np.ndarray):
            import torch

            return torch.from_numpy(x)
        return x


PROMPTS = np.array([[3, 14, 15, 92, 65], [2, 71, 82, 81, 82], [1, 41, 42, 13, 56]], dtype=np.int64)


@pytest.mark.parametrize("backend", BACKENDS)
def test_generate_with_the_processor_equals_generate_with_the_hook_called_directly(keys, scheme, backend) -> None:
    hook = make_hook(keys, scheme)
    accounts = [10, 20, 30]
    processor = WatermarkLogitsProcessor(hook, accounts)
    recorded: list[np.ndarray] = []
    reference: list[np.ndarray] = []

    def tap(into):
        def call(_ids, scores):
            into.append(np.array(scores, dtype=np.float32))
            return scores
        return call

    model = StandInModel(backend)
    got = model.generate(PROMPTS, [processor, tap(recorded)], 40, seed=1)
    expected = model.generate(PROMPTS, [DirectHookProcessor(hook, accounts, processor.mode), tap(reference)], 40,
                              seed=1)
    assert np.array_equal(got, expected)
    assert all(np.array_equal(bits(a), bits(b)) for a, b in zip(recorded, reference))
    assert [s.account for s in processor.sequences] == accounts
    assert processor.mode == ("choose" if scheme == "gumbel" else "bias")


@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_text_is_detectably_watermarked_and_plain_text_is_not(keys, backend) -> None:
    params = telltale.Params("kgw", VOCAB, gamma=0.25, delta=4.0)
    hook, det = telltale.Hook(keys, params), telltale.Detector(keys, params)
    model = StandInModel(backend)
    n_new = 80
    marked = model.generate(PROMPTS, [WatermarkLogitsProcessor(hook)], n_new, seed=2)
    plain = model.generate(PROMPTS, [], n_new, seed=2)

    def z(tokens: np.ndarray) -> float:
        scores = np.concatenate([det.score_sequence(row.tolist(), PROMPTS.shape[1]) for row in tokens])
        g = params.effective_gamma
        return float((scores.sum() - g * len(scores)) / np.sqrt(len(scores) * g * (1 - g)))

    assert z(marked) > 8.0  # 240 scored tokens, delta 4: far beyond chance
    assert z(plain) < 4.0


@needs_torch
def test_torch_scores_are_edited_in_place_with_no_copy(keys) -> None:
    import torch

    hook = make_hook(keys, "kgw")
    processor = WatermarkLogitsProcessor(hook, allow_copy=False)
    scores = torch.from_numpy(np.stack([BigramModel().next_logits(r) for r in PROMPTS]))
    address = scores.data_ptr()
    before = scores.clone()
    out = processor(torch.from_numpy(PROMPTS), scores)
    assert out is scores and scores.data_ptr() == address and not torch.equal(scores, before)


@needs_torch
def test_half_precision_scores_are_copied_when_allowed_and_refused_otherwise(keys) -> None:
    import torch

    hook = make_hook(keys, "kgw")
    scores = torch.from_numpy(np.stack([BigramModel().next_logits(r) for r in PROMPTS])).half()
    reference = DirectHookProcessor(hook, [0, 0, 0], "bias")(PROMPTS, scores.float().numpy())
    out = WatermarkLogitsProcessor(hook)(torch.from_numpy(PROMPTS), scores)
    assert out is scores and out.dtype == torch.float16
    np.testing.assert_array_equal(out.numpy(), torch.from_numpy(reference).half().numpy())
    with pytest.raises(ValueError, match="zero-copy"):
        WatermarkLogitsProcessor(hook, allow_copy=False)(torch.from_numpy(PROMPTS), scores)


def test_numpy_scores_are_edited_in_place(keys) -> None:
    hook = make_hook(keys, "tournament")
    scores = np.stack([BigramModel().next_logits(r) for r in PROMPTS])
    address = scores.__array_interface__["data"][0]
    out = WatermarkLogitsProcessor(hook)(PROMPTS, scores)
    assert out is scores and scores.__array_interface__["data"][0] == address


def test_rows_expanded_by_num_return_sequences_share_their_prompts_account(keys) -> None:
    processor = WatermarkLogitsProcessor(make_hook(keys, "kgw"), [7, 8])
    ids = np.repeat(PROMPTS[:2], 3, axis=0)  # transformers expands with repeat_interleave
    processor(ids, np.zeros((6, VOCAB), np.float32))
    assert [s.account for s in processor.sequences] == [7, 7, 7, 8, 8, 8]
    with pytest.raises(ValueError, match="accounts"):
        WatermarkLogitsProcessor(make_hook(keys, "kgw"), [1, 2, 3, 4])(ids, np.zeros((6, VOCAB), np.float32))


def test_left_padding_is_not_fed_as_context(keys) -> None:
    hook = make_hook(keys, "kgw")
    processor = WatermarkLogitsProcessor(hook, pad_token_id=0)
    ids = np.array([[0, 0, 0, 5, 6], [1, 2, 3, 4, 5]])
    processor(ids, np.zeros((2, VOCAB), np.float32))
    assert processor.sequences[0].window == [5, 6] and processor.sequences[0].accepted == 2


def test_a_new_generate_call_starts_over_and_beam_reordering_follows_the_parents(keys) -> None:
    hook = make_hook(keys, "kgw")
    processor = WatermarkLogitsProcessor(hook)
    ids = PROMPTS.copy()
    processor(ids, np.zeros((3, VOCAB), np.float32))
    # Beam search: row 0 continues old row 2, rows 1 and 2 both continue old row 0.
    step = np.concatenate([ids[[2, 0, 0]], np.array([[11], [12], [13]])], axis=1)
    processor(step, np.zeros((3, VOCAB), np.float32))
    expected = [PROMPTS[2].tolist() + [11], PROMPTS[0].tolist() + [12], PROMPTS[0].tolist() + [13]]
    for seq, tokens in zip(processor.sequences, expected):
        assert seq.window == tokens[-4:] and seq.accepted == len(tokens)
    assert len({id(s) for s in processor.sequences}) == 3
    # A prompt that does not continue the previous rows is a new generation.
    processor(PROMPTS[:, :3], np.zeros((3, VOCAB), np.float32))
    assert [s.accepted for s in processor.sequences] == [3, 3, 3]


def test_gumbel_in_bias_mode_is_refused(keys) -> None:
    with pytest.raises(ValueError, match="choose"):
        WatermarkLogitsProcessor(make_hook(keys, "gumbel"), mode="bias")
    assert WatermarkLogitsProcessor(make_hook(keys, "kgw"), mode="choose").mode == "choose"
