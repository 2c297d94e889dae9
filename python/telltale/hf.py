"""Hugging Face transformers adapter: a LogitsProcessor that watermarks every row of ``model.generate``.

    from telltale import KeyRing, Params, Hook
    from telltale.hf import WatermarkLogitsProcessor

    hook = Hook(KeyRing.load("watermark.key"), Params("kgw", model.config.vocab_size))
    out = model.generate(**inputs, do_sample=True, logits_processor=[WatermarkLogitsProcessor(hook)])

transformers is not imported unless it is installed: the class is duck-typed on ``__call__(input_ids, scores)`` and
subclasses ``transformers.LogitsProcessor`` only when that import works.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from telltale._host import apply_rows, check_mode, token_array
from telltale._telltale import Hook, Sequence

try:  # Subclass the real base when transformers is there, so isinstance checks in LogitsProcessorList pass.
    from transformers import LogitsProcessor as _Base  # type: ignore[import-not-found]
except Exception:  # noqa: BLE001 - any import failure means "not available"
    _Base = object


class WatermarkLogitsProcessor(_Base):  # type: ignore[misc, valid-type]
    """Watermarks each row of the batch with its own :class:`telltale.Sequence`.

    Which path a scheme takes (``mode``):

    - ``"bias"`` (default for ``kgw`` and ``tournament``): ``Hook.bias`` edits the scores in place and
      transformers makes the draw. A user processor runs *before* temperature, top-k and top-p, so the KGW bias is
      added to raw logits (as in the KGW paper); the tournament's log-probabilities are then tempered like any logits.
    - ``"choose"`` (required for ``gumbel``; allowed for ``kgw``): ``Hook.choose(..., mask_others=True)`` makes the
      draw from these scores and sets every other id to ``-inf``, so whatever sampler follows (greedy, temperature,
      top-k, top-p) keeps exactly the chosen token. The draw therefore sees the model's distribution at temperature 1
      without top-k/top-p; set those to neutral values when you use this mode.

    Context: on the first call each row's whole ``input_ids`` (the prompt, minus leading ``pad_token_id`` tokens) is
    fed to ``Sequence.accept``; on later calls only the token appended since the previous call. A call whose rows do
    not continue the previous call's rows starts over (a new ``generate``); a row that continues a *different*
    previous row (beam search reorders beams) takes a clone of that row's state. Call :meth:`reset` to force a fresh
    start.

    Args:
        hook: the :class:`telltale.Hook` (its ``Params.vocab_size`` is the tokenizer's vocabulary; wider score rows
            are fine, the extra ids are never favoured).
        accounts: the account of each row: None (all 0), one int for every row, or a list with one entry per prompt.
            When the batch has ``k * len(accounts)`` rows (``num_return_sequences`` or beams), row ``r`` gets
            ``accounts[r // k]``, matching how transformers expands a batch.
        rng_seed: seeds each row's fallback draws (row ``r`` uses ``rng_seed + r``).
        pad_token_id: leading tokens with this id are not fed as context (left padding of batched prompts).
        mode: ``"bias"``, ``"choose"`` or None for the scheme's default (see above).
        allow_copy: scores that are not a contiguous float32 CPU tensor (half precision, GPU) are copied to the CPU,
            processed and copied back; with False they raise ValueError instead. The zero-copy path is a contiguous
            float32 CPU tensor, which is what ``generate`` passes on CPU.
    """

    def __init__(self, hook: Hook, accounts: int | Iterable[int] | None = None, *, rng_seed: int = 0,
                 pad_token_id: int | None = None, mode: str | None = None, allow_copy: bool = True) -> None:
        self.hook = hook
        self.mode = check_mode(hook, mode)
        self.accounts: int | list[int] = 0 if accounts is None else (
            accounts if isinstance(accounts, int) else [int(a) for a in accounts])
        self.rng_seed = int(rng_seed)
        self.pad_token_id = pad_token_id
        self.allow_copy = allow_copy
        self.sequences: list[Sequence] = []
        self._previous: np.ndarray | None = None  # input_ids of the previous call, to recognise continuations

    def reset(self) -> None:
        """Forgets every row: the next call starts a new generation."""
        self.sequences = []
        self._previous = None

    def account_of(self, row: int, batch: int) -> int:
        """The account of `row` in a batch of `batch` rows."""
        if isinstance(self.accounts, int):
            return self.accounts
        n = len(self.accounts)
        if n == 0 or batch % n != 0:
            raise ValueError(f"{batch} rows cannot be split among {n} accounts (need a multiple)")
        return self.accounts[row // (batch // n)]

    def _fresh(self, row: int, batch: int, tokens: np.ndarray) -> Sequence:
        seq = self.hook.new_sequence(self.account_of(row, batch), self.rng_seed + row)
        start = 0
        if self.pad_token_id is not None:
            while start < len(tokens) and tokens[start] == self.pad_token_id:
                start += 1
        seq.extend(tokens[start:].astype(np.int32))
        return seq

    def _sync(self, ids: np.ndarray) -> None:
        """Brings one Sequence per row up to date with `ids` (the rows transformers passes this step)."""
        batch, length = ids.shape
        prev = self._previous
        if prev is None or prev.shape[0] != batch or prev.shape[1] + 1 != length:
            self.sequences = [self._fresh(r, batch, ids[r]) for r in range(batch)]
            self._previous = ids.copy()
            return
        same = (ids[:, :-1] == prev).all(axis=1)
        if not same.any():
            self.reset()
            self._sync(ids)
            return
        old = self.sequences
        sources: list[int] = []
        for r in range(batch):
            if same[r]:
                sources.append(r)
            else:  # beam search moved another beam's history into this row
                matches = np.flatnonzero((prev == ids[r, :-1]).all(axis=1))
                sources.append(int(matches[0]) if len(matches) else -1)
        # Clone before any accept: a parent kept by two beams needs a copy of its state as it was.
        new: list[Sequence] = []
        taken: set[int] = set()
        for r, src in enumerate(sources):
            if src < 0:
                new.append(self._fresh(r, batch, ids[r]))
            elif src in taken:
                new.append(old[src].clone())
            else:
                taken.add(src)
                new.append(old[src])
        for r, src in enumerate(sources):
            if src >= 0:
                new[r].accept(int(ids[r, -1]))
        self.sequences = new
        self._previous = ids.copy()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        """Watermarks `scores` [batch, vocab] in place and returns them; `input_ids` is [batch, sequence_length]."""
        ids = token_array(input_ids)
        if ids.shape[0] != scores.shape[0]:
            raise ValueError(f"input_ids has {ids.shape[0]} rows but scores has {scores.shape[0]}")
        self._sync(ids)
        return apply_rows(self.hook, self.mode, list(self.sequences), scores, self.allow_copy)
