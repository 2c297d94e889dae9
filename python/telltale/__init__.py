"""telltale: keyed watermarks for language-model output, from Python.

The classes come from the C++ core through the ``_telltale`` extension module:

- :class:`KeyRing` -- the master secret and its public key id (``generate``, ``load``, ``save``, ``from_secret``).
- :class:`Params` -- scheme parameters (``'kgw'``, ``'gumbel'`` or ``'tournament'``).
- :class:`Hook` -- the generation side: ``new_sequence``, ``bias`` and ``choose`` on ``[rows, vocab]`` float32 CPU
  logits, edited in place with no copy (NumPy arrays, or torch tensors through DLPack).
- :class:`Sequence` -- one generating sequence (``accept``, ``extend``, ``reset``, ``clone``, ``window``).
- :class:`Detector` -- the detection side (``score``, ``score_sequence``).
- :class:`Tokenizer` -- the verifier's tokenizer (``encode``, ``decode``), text to ids as ``telltale detect`` reads it.
- :class:`ModelAwareDetector` -- ``telltale detect --model`` on one text or id sequence: the owner's model weighs each
  position (never reading the key) and the weighted score gets its exact null (``detect``, ``weigh``).
- :class:`Attributor` -- ``telltale attribute [--model]`` on one text or id sequence (``attribute``).

Host adapters live in :mod:`telltale.hf` (Hugging Face transformers) and :mod:`telltale.vllm` (vLLM V1).
"""

from telltale._telltale import (
    Attributor,
    Detector,
    Hook,
    KeyFileError,
    KeyRing,
    ModelAwareDetector,
    Params,
    Sequence,
    Tokenizer,
    __version__,
    core_library_path,
)

__all__ = [
    "Attributor",
    "Detector",
    "Hook",
    "KeyFileError",
    "KeyRing",
    "ModelAwareDetector",
    "Params",
    "Sequence",
    "Tokenizer",
    "__version__",
    "core_library_path",
    "green_fraction",
]


def green_fraction(detector: Detector, tokens: "list[int]") -> float:
    """Mean per-token score of ``tokens`` (for KGW: the fraction of green tokens), each scored after its window.

    Tokens before ``detector.window_size`` have no full window and are not scored. Returns 0.0 when nothing can be
    scored. A quick check, not a test: the verifier computes exact p-values over de-duplicated tuples.
    """
    scores = detector.score_sequence(tokens)
    return float(scores.mean()) if len(scores) else 0.0
