"""Shared fixtures of the Python tests: fixed keys, hooks for each scheme, a deterministic stand-in "model", and the
torch switch (torch-specific tests are skipped, visibly, when Debian's python3-torch is not installed)."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import telltale

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not importable (install python3-torch)")

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("TELLTALE_SHARED_DIR", ROOT.parent / "shared"))
VOCAB = 512
SECRET_A = bytes(range(32))
SECRET_B = bytes(range(100, 132))


@pytest.fixture
def keys() -> telltale.KeyRing:
    return telltale.KeyRing.from_secret(SECRET_A)


@pytest.fixture
def other_keys() -> telltale.KeyRing:
    return telltale.KeyRing.from_secret(SECRET_B)


def make_hook(keys: telltale.KeyRing, scheme: str, **overrides: object) -> telltale.Hook:
    return telltale.Hook(keys, telltale.Params(scheme, VOCAB, **overrides))


@pytest.fixture(params=["kgw", "gumbel", "tournament"])
def scheme(request: pytest.FixtureRequest) -> str:
    return request.param


def random_logits(rows: int, vocab: int = VOCAB, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((rows, vocab)) * 3).astype(np.float32)


def bits(x: np.ndarray) -> np.ndarray:
    """The raw float32 bits, so that comparisons are bit-exact (-0.0 != 0.0, NaN == NaN)."""
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


class BigramModel:
    """A deterministic stand-in language model: the next-token logits depend on the last two tokens. Enough to run
    real decode loops (token feedback, batches, reordering) without model weights."""

    def __init__(self, vocab: int = VOCAB, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.vocab = vocab
        self.a = (rng.standard_normal((vocab, vocab)) * 2.5).astype(np.float32)
        self.b = (rng.standard_normal((vocab, vocab)) * 1.0).astype(np.float32)

    def next_logits(self, history: "list[int] | np.ndarray") -> np.ndarray:
        last = int(history[-1])
        before = int(history[-2]) if len(history) > 1 else 0
        return (self.a[last] + self.b[before]).astype(np.float32)


def telltale_binary() -> pathlib.Path:
    """The `telltale` command of the build under test (skips where scripts/test-python did not say which build)."""
    build = os.environ.get("TELLTALE_BUILD_DIR")
    if not build:
        pytest.skip("TELLTALE_BUILD_DIR is not set (scripts/test-python sets it)")
    path = pathlib.Path(build) / "verify" / "telltale"
    assert path.exists(), f"{path} was not built"
    return path
