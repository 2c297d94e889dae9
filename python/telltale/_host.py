"""Shared plumbing of the host adapters: getting logits into the hook's zero-copy form, and token ids out of tensors.

Duck-typed on purpose: NumPy arrays and torch tensors both work, and neither torch, transformers nor vLLM is imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from telltale._telltale import Hook, Sequence

#: How a host adapter applies the hook: "bias" edits logits and leaves the draw to the host's sampler (kgw,
#: tournament); "choose" makes the draw and masks every other id to -inf (gumbel, or kgw if you want the hook's draw).
MODES = ("bias", "choose")


def default_mode(hook: Hook) -> str:
    """The path a scheme needs on a host that only lets a processor edit logits: gumbel must choose."""
    return "choose" if hook.scheme == "gumbel" else "bias"


def check_mode(hook: Hook, mode: str | None) -> str:
    """Validates an explicit mode, or picks the scheme's default."""
    if mode is None:
        return default_mode(hook)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == "bias" and hook.scheme == "gumbel":
        raise ValueError("the gumbel scheme makes the draw itself: use mode='choose'")
    return mode


def _is_torch(x: Any) -> bool:
    return hasattr(x, "is_contiguous") and hasattr(x, "device") and hasattr(x, "dtype")


def host_view(logits: Any, allow_copy: bool) -> tuple[Any, bool]:
    """Returns (work, copied): `work` is `logits` itself when it is already a writable, C-contiguous float32 CPU array
    or tensor (the zero-copy path); otherwise a float32 CPU copy, or ValueError when allow_copy is False."""
    if _is_torch(logits):
        zero_copy = (logits.device.type == "cpu" and str(logits.dtype) == "torch.float32" and logits.is_contiguous()
                     and not logits.requires_grad)
        if zero_copy:
            return logits, False
        if not allow_copy:
            raise ValueError(f"logits must be a contiguous float32 CPU tensor for the zero-copy path (got dtype "
                             f"{logits.dtype}, device {logits.device}, contiguous={logits.is_contiguous()})")
        import torch  # only reached with a torch tensor in hand

        return logits.detach().to(device="cpu", dtype=torch.float32).contiguous(), True
    arr = np.asarray(logits)
    if arr.dtype == np.float32 and arr.flags.c_contiguous and arr.flags.writeable and arr is logits:
        return arr, False
    if not allow_copy:
        raise ValueError(f"logits must be a writable C-contiguous float32 array for the zero-copy path (got dtype "
                         f"{arr.dtype}, contiguous={arr.flags.c_contiguous}, writable={arr.flags.writeable})")
    return np.ascontiguousarray(arr, dtype=np.float32).copy(), True


def write_back(logits: Any, work: Any) -> Any:
    """Copies `work` back into `logits` after a copied call, so that callers always see an in-place edit."""
    if _is_torch(logits):
        logits.copy_(work)
        return logits
    if isinstance(logits, np.ndarray) and logits.flags.writeable:
        logits[...] = work
        return logits
    return work


def token_array(ids: Any) -> np.ndarray:
    """Token ids (a torch LongTensor on any device, a NumPy array or nested lists) as a 2-D int64 NumPy array."""
    if _is_torch(ids):
        ids = ids.detach().cpu().numpy()
    arr = np.asarray(ids, dtype=np.int64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"input_ids must be [batch, sequence_length] (got shape {arr.shape})")
    return arr


def apply_rows(hook: Hook, mode: str, rows: list[Sequence | None], logits: Any, allow_copy: bool) -> Any:
    """One hook call for the whole batch, in place; returns `logits`."""
    work, copied = host_view(logits, allow_copy)
    if mode == "bias":
        hook.bias(rows, work)
    else:
        hook.choose(rows, work, None, True)
    return write_back(logits, work) if copied else logits
