"""vLLM V1 adapter: a batch-level logits processor (``vllm/v1/sample/logits_processor/interface.py``).

vLLM builds the processor itself from ``(vllm_config, device, is_pin_memory)``, so the hook comes either from a class
bound in Python or from the environment:

    # in Python: bind a hook, pass the class
    from vllm import LLM
    from telltale.vllm import WatermarkLogitsProcessor
    llm = LLM(model=..., logits_processors=[WatermarkLogitsProcessor.bind(hook)])

    # from the command line: the class reads TELLTALE_KEY_FILE (and TELLTALE_SCHEME, TELLTALE_PARAMS)
    TELLTALE_KEY_FILE=/etc/telltale/watermark.key vllm serve ... --logits-processors telltale.vllm:WatermarkLogitsProcessor

Per request, the account comes from ``SamplingParams.extra_args["telltale_account"]`` (OpenAI server: the request
field ``vllm_xargs``). That field is client-controlled: for attribution, have your gateway set it and strip any
client value.

vLLM is not imported (it is not installable here): the class follows the V1 interface by duck typing and subclasses
``vllm.v1.sample.logits_processor.LogitsProcessor`` only when that import works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence as SequenceType

from telltale._host import apply_rows, check_mode
from telltale._telltale import Hook, KeyRing, Params, Sequence

try:
    from vllm.v1.sample.logits_processor import LogitsProcessor as _Base  # type: ignore[import-not-found]
except Exception:  # noqa: BLE001 - any import failure means "not available"
    _Base = object

ACCOUNT_KEY = "telltale_account"
_U64 = 1 << 64


def account_of(sampling_params: Any, default: int = 0) -> int:
    """The request's account: ``extra_args["telltale_account"]`` (an int in [0, 2^64)) or `default`."""
    extra = getattr(sampling_params, "extra_args", None) or {}
    value = extra.get(ACCOUNT_KEY, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():  # vllm_xargs may carry numbers as strings
            value = int(value)
        else:
            raise ValueError(f"extra_args[{ACCOUNT_KEY!r}] must be an integer account id, not {value!r}")
    if not 0 <= value < _U64:
        raise ValueError(f"extra_args[{ACCOUNT_KEY!r}] must be in [0, 2^64)")
    return value


def hook_from_env(vocab_size: int) -> Hook:
    """A Hook from TELLTALE_KEY_FILE, TELLTALE_SCHEME (default kgw) and TELLTALE_PARAMS ("gamma=0.25,delta=2,...",
    any keyword of :class:`telltale.Params`)."""
    path = os.environ.get("TELLTALE_KEY_FILE")
    if not path:
        raise RuntimeError("telltale: no hook bound (WatermarkLogitsProcessor.bind(hook)) and TELLTALE_KEY_FILE unset")
    overrides: dict[str, Any] = {}
    for item in filter(None, os.environ.get("TELLTALE_PARAMS", "").split(",")):
        name, _, text = item.partition("=")
        name = name.strip()
        if name in ("self_hash", "skip_repeated_contexts"):
            overrides[name] = text.strip().lower() in ("1", "true", "yes")
        elif name in ("gamma", "delta"):
            overrides[name] = float(text)
        else:
            overrides[name] = int(text)
    params = Params(os.environ.get("TELLTALE_SCHEME", "kgw"), vocab_size, **overrides)
    return Hook(KeyRing.load(path), params)


@dataclass
class _Request:
    """One request's state: its Sequence, and how much of vLLM's running output list it has been fed."""

    seq: Sequence
    output: list[int]  # vLLM's own list, by reference: it grows as tokens are sampled
    fed: int = 0

    def catch_up(self) -> None:
        out = self.output
        while self.fed < len(out):
            token = out[self.fed]
            if token < 0:  # an async-scheduling placeholder: the real id is not known yet
                break
            self.seq.accept(token)
            self.fed += 1


def _is_swap(direction: Any) -> bool:
    return getattr(direction, "name", direction) == "SWAP"


class WatermarkLogitsProcessor(_Base):  # type: ignore[misc, valid-type]
    """Watermarks every request of vLLM's persistent batch with one hook call per step.

    Follows the V1 contract: ``update_state(batch_update)`` before each forward pass applies removed, then added,
    then moved (unidirectional or swap) to a ``row -> request`` table, and feeds each request the output tokens it
    has not seen yet (``output_tok_ids`` is vLLM's running list, held by reference); ``apply(logits)`` then makes a
    single ``Hook.bias`` (kgw, tournament) or ``Hook.choose(..., mask_others=True)`` (gumbel) call for the whole
    ``[num_reqs, vocab]`` batch, in place. It is not argmax-invariant, so vLLM runs it on raw logits, before
    penalties and temperature: a choosing scheme draws at temperature 1 without top-k/top-p, and its mask makes the
    later sampler keep the chosen token.

    Prompt tokens count as context: they are fed when the request is added. Speculative decoding (several logits rows
    per request) is not supported. Logits on a GPU are copied to the host and back each step (slow at large batch x
    vocabulary; the zero-copy path is CPU float32).
    """

    hook: ClassVar[Hook | None] = None
    mode: ClassVar[str | None] = None
    default_account: ClassVar[int] = 0

    @classmethod
    def bind(cls, hook: Hook, *, mode: str | None = None, default_account: int = 0) -> type[WatermarkLogitsProcessor]:
        """A subclass bound to `hook`, to hand to vLLM (``logits_processors=[...]`` takes classes)."""
        check_mode(hook, mode)
        return type(cls.__name__, (cls,), {"hook": hook, "mode": mode, "default_account": default_account})

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        """Raises ValueError for a malformed ``extra_args["telltale_account"]`` (vLLM calls this per request)."""
        account_of(sampling_params, cls.default_account)

    def __init__(self, vllm_config: Any, device: Any, is_pin_memory: bool) -> None:
        hook = type(self).hook
        if hook is None:
            hook = hook_from_env(int(vllm_config.model_config.get_vocab_size()))
        self._hook: Hook = hook
        self._mode = check_mode(hook, type(self).mode)
        self._device = device
        self._rows: dict[int, _Request] = {}

    def is_argmax_invariant(self) -> bool:
        """False: the watermark changes which token is most likely, so vLLM must apply it before greedy sampling."""
        return False

    def needs_output_token_ids(self) -> bool:
        """True: the context needs the real sampled ids, not async-scheduling placeholders."""
        return True

    def _new_request(self, params: Any, prompt: SequenceType[int] | None, output: list[int]) -> _Request:
        seed = getattr(params, "seed", None) or 0
        seq = self._hook.new_sequence(account_of(params, type(self).default_account), int(seed) % _U64)
        if prompt:
            seq.extend(list(prompt))
        return _Request(seq, output)

    def update_state(self, batch_update: Any | None) -> None:
        """Applies the batch changes (removed, added, moved, in that order) and feeds new output tokens."""
        rows = self._rows
        if batch_update is not None:
            for index in batch_update.removed:
                rows.pop(index, None)
            for added in batch_update.added:
                index, params, prompt, output = added
                rows[index] = self._new_request(params, prompt, output)
            for a, b, direction in batch_update.moved:
                entry_a = rows.pop(a, None)
                entry_b = rows.pop(b, None)
                if entry_a is not None:
                    rows[b] = entry_a
                if entry_b is not None and _is_swap(direction):
                    rows[a] = entry_b
        for request in rows.values():
            request.catch_up()

    def apply(self, logits: Any) -> Any:
        """Watermarks `logits` [num_reqs, vocab] in place (one hook call) and returns it."""
        n = int(logits.shape[0])
        rows: list[Sequence | None] = [None] * n
        for index, request in self._rows.items():
            request.catch_up()  # in case the engine skipped update_state for a step; a no-op otherwise
            if index < n:
                rows[index] = request.seq
        return apply_rows(self._hook, self._mode, rows, logits, allow_copy=True)
