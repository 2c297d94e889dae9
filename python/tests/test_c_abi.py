"""The binding against the C ABI: the same keys, parameters and tokens through ctypes on the very libtelltale the
module is linked to must give bit-identical logits, choices and scores."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

import telltale
from conftest import SECRET_A, VOCAB, bits, random_logits


class TtParams(ctypes.Structure):
    _fields_ = [
        ("scheme", ctypes.c_int32),
        ("vocab_size", ctypes.c_uint32),
        ("context_width", ctypes.c_uint32),
        ("self_hash", ctypes.c_int32),
        ("skip_repeated_contexts", ctypes.c_int32),
        ("context_history", ctypes.c_uint32),
        ("gamma", ctypes.c_double),
        ("delta", ctypes.c_float),
        ("tournament_layers", ctypes.c_uint32),
        ("account_delta", ctypes.c_float),
        ("tournament_score", ctypes.c_int32),
    ]


class TtLogitsView(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.POINTER(ctypes.c_float)),
        ("n_rows", ctypes.c_int64),
        ("n_vocab", ctypes.c_int64),
        ("row_stride", ctypes.c_int64),
    ]


SCHEMES = {"kgw": 0, "gumbel": 1, "tournament": 2}
P = ctypes.c_void_p


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    path = telltale.core_library_path()
    assert path, "the module cannot tell where libtelltale is"
    lib = ctypes.CDLL(path)
    lib.tt_params_default.restype = TtParams
    lib.tt_params_default.argtypes = [ctypes.c_int, ctypes.c_uint32]
    lib.tt_keyring_from_secret.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(P)]
    lib.tt_hook_create.argtypes = [P, ctypes.POINTER(TtParams), ctypes.POINTER(P)]
    lib.tt_seq_create.argtypes = [P, ctypes.c_uint64, ctypes.c_uint64, ctypes.POINTER(P)]
    lib.tt_seq_accept.argtypes = [P, ctypes.c_int32]
    lib.tt_seq_accept.restype = None
    lib.tt_hook_bias.argtypes = [P, ctypes.POINTER(P), TtLogitsView, ctypes.c_uint32]
    lib.tt_hook_choose.argtypes = [P, ctypes.POINTER(P), TtLogitsView, ctypes.POINTER(ctypes.c_float),
                                   ctypes.POINTER(ctypes.c_int32), ctypes.c_int]
    lib.tt_detector_create.argtypes = [P, ctypes.POINTER(TtParams), ctypes.POINTER(P)]
    lib.tt_detector_create_scored.argtypes = [P, ctypes.POINTER(TtParams), ctypes.c_int, ctypes.POINTER(P)]
    lib.tt_detector_score.argtypes = [P, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.c_int32,
                                      ctypes.POINTER(ctypes.c_double)]
    lib.tt_last_error.restype = ctypes.c_char_p
    for name in ("tt_keyring_free", "tt_hook_free", "tt_seq_free", "tt_detector_free"):
        getattr(lib, name).argtypes = [P]
        getattr(lib, name).restype = None
    return lib


def ok(lib: ctypes.CDLL, status: int) -> None:
    assert status == 0, lib.tt_last_error().decode()


class CHook:
    """The hook and its sequences through the C ABI, freed on close()."""

    def __init__(self, lib: ctypes.CDLL, scheme: str, **fields: float) -> None:
        self.lib = lib
        self.params = lib.tt_params_default(SCHEMES[scheme], VOCAB)
        for name, value in fields.items():
            setattr(self.params, name, value)
        self.keys, self.hook, self.seqs = P(), P(), []
        ok(lib, lib.tt_keyring_from_secret(SECRET_A, len(SECRET_A), ctypes.byref(self.keys)))
        ok(lib, lib.tt_hook_create(self.keys, ctypes.byref(self.params), ctypes.byref(self.hook)))

    def sequences(self, prompts: list[list[int]]) -> ctypes.Array:
        rows = (P * len(prompts))()
        for r, prompt in enumerate(prompts):
            seq = P()
            ok(self.lib, self.lib.tt_seq_create(self.hook, r, 1000 + r, ctypes.byref(seq)))
            for t in prompt:
                self.lib.tt_seq_accept(seq, t)
            rows[r] = seq
            self.seqs.append(seq)
        return rows

    def close(self) -> None:
        for s in self.seqs:
            self.lib.tt_seq_free(s)
        self.lib.tt_hook_free(self.hook)
        self.lib.tt_keyring_free(self.keys)


def view(x: np.ndarray) -> TtLogitsView:
    return TtLogitsView(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), x.shape[0], x.shape[1], x.shape[1])


PROMPTS = [[5, 6, 7, 8, 9], [1, 2], [400, 401, 402, 403, 404, 405, 406]]


def py_sequences(hook: telltale.Hook) -> list[telltale.Sequence]:
    seqs = [hook.new_sequence(r, 1000 + r) for r in range(len(PROMPTS))]
    for s, prompt in zip(seqs, PROMPTS):
        s.extend(prompt)
    return seqs


@pytest.mark.parametrize("scheme,fields", [("kgw", {}), ("kgw", {"gamma": 0.5, "delta": 1.5, "self_hash": 1,
                                                                  "context_width": 3}),
                                           ("tournament", {"tournament_layers": 12})])
def test_bias_through_python_and_through_the_c_abi_is_bit_identical(lib, scheme, fields) -> None:
    c = CHook(lib, scheme, **fields)
    try:
        kw = {"gamma": c.params.gamma, "delta": c.params.delta, "context_width": c.params.context_width,
              "self_hash": bool(c.params.self_hash), "layers": c.params.tournament_layers}
        hook = telltale.Hook(telltale.KeyRing.from_secret(SECRET_A), telltale.Params(scheme, VOCAB, **kw))
        x = random_logits(3, seed=11)
        y = x.copy()
        ok(lib, lib.tt_hook_bias(c.hook, c.sequences(PROMPTS), view(x), 0))
        hook.bias(py_sequences(hook), y)
        assert np.array_equal(bits(x), bits(y))
        assert not np.array_equal(bits(x), bits(random_logits(3, seed=11)))
    finally:
        c.close()


@pytest.mark.parametrize("scheme", ["kgw", "gumbel", "tournament"])
def test_choose_through_python_and_through_the_c_abi_is_identical(lib, scheme) -> None:
    c = CHook(lib, scheme)
    try:
        hook = telltale.Hook(telltale.KeyRing.from_secret(SECRET_A), telltale.Params(scheme, VOCAB))
        x = random_logits(3, seed=12)
        y = x.copy()
        out = (ctypes.c_int32 * 3)()
        uniforms = (ctypes.c_float * 3)(0.25, 0.5, 0.75)
        ok(lib, lib.tt_hook_choose(c.hook, c.sequences(PROMPTS), view(x), uniforms, out, 1))
        chosen = hook.choose(py_sequences(hook), y, [0.25, 0.5, 0.75], True)
        assert list(out) == chosen.tolist()
        assert np.array_equal(bits(x), bits(y))
    finally:
        c.close()


def c_scores(lib, params, score_kind: int, tokens: list[int]) -> list[float]:
    """Scores tokens[i], i >= 4, one call of tt_detector_score each, through a detector made by
    tt_detector_create_scored(score_kind) (0: through tt_detector_create)."""
    keys, det = P(), P()
    ok(lib, lib.tt_keyring_from_secret(SECRET_A, len(SECRET_A), ctypes.byref(keys)))
    try:
        if score_kind == 0:
            ok(lib, lib.tt_detector_create(keys, ctypes.byref(params), ctypes.byref(det)))
        else:
            ok(lib, lib.tt_detector_create_scored(keys, ctypes.byref(params), score_kind, ctypes.byref(det)))
        got = []
        for i in range(4, len(tokens)):
            window = (ctypes.c_int32 * 4)(*tokens[i - 4:i])
            score = ctypes.c_double()
            ok(lib, lib.tt_detector_score(det, window, 4, tokens[i], ctypes.byref(score)))
            got.append(score.value)
        return got
    finally:
        lib.tt_detector_free(det)
        lib.tt_keyring_free(keys)


def test_detector_scores_through_python_and_through_the_c_abi_agree(lib) -> None:
    tokens = np.random.default_rng(5).integers(0, VOCAB, 200).tolist()
    got = c_scores(lib, lib.tt_params_default(SCHEMES["kgw"], VOCAB), 0, tokens)
    py_det = telltale.Detector(telltale.KeyRing.from_secret(SECRET_A), telltale.Params("kgw", VOCAB))
    assert got == py_det.score_sequence(tokens).tolist()
    assert 0.1 < np.mean(got) < 0.4  # unwatermarked tokens: about gamma = 0.25 green


def test_weighted_tournament_scores_through_python_and_through_the_c_abi_agree(lib) -> None:
    params = lib.tt_params_default(SCHEMES["tournament"], VOCAB)
    params.tournament_layers = 12
    tokens = np.random.default_rng(6).integers(0, VOCAB, 100).tolist()
    got = c_scores(lib, params, 1, tokens)
    keys = telltale.KeyRing.from_secret(SECRET_A)
    weighted = telltale.Detector(keys, telltale.Params("tournament", VOCAB, layers=12,
                                                       tournament_score="weighted-mean"))
    mean = telltale.Detector(keys, telltale.Params("tournament", VOCAB, layers=12))
    assert got == weighted.score_sequence(tokens).tolist()
    assert got != mean.score_sequence(tokens).tolist()
    assert c_scores(lib, params, 0, tokens) == mean.score_sequence(tokens).tolist()
    assert weighted.null_model()["kind"] == "weighted_bits"


def test_tt_params_carries_the_tournament_score_and_refuses_a_value_that_is_not_one(lib) -> None:
    assert ctypes.sizeof(TtParams) == 48  # the field took the old tail padding: the struct's size is unchanged
    params = lib.tt_params_default(SCHEMES["tournament"], VOCAB)
    assert params.tournament_score == 0
    params.tournament_layers = 12
    tokens = np.random.default_rng(7).integers(0, VOCAB, 100).tolist()
    scored = c_scores(lib, params, 1, tokens)  # the deprecated call
    params.tournament_score = 1
    assert c_scores(lib, params, 0, tokens) == scored  # the field, through tt_detector_create
    keys, det = P(), P()
    ok(lib, lib.tt_keyring_from_secret(SECRET_A, len(SECRET_A), ctypes.byref(keys)))
    try:
        for scheme, score in (("tournament", 7), ("kgw", 1)):
            bad = lib.tt_params_default(SCHEMES[scheme], VOCAB)
            bad.tournament_score = score
            assert lib.tt_detector_create(keys, ctypes.byref(bad), ctypes.byref(det)) == -1  # invalid argument
            assert "score" in lib.tt_last_error().decode()
    finally:
        lib.tt_keyring_free(keys)
