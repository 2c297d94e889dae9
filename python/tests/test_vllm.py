"""telltale.vllm.WatermarkLogitsProcessor driven the way vLLM's V1 engine drives a batch-level logits processor.

vLLM is not installable here. StandInEngine reproduces, from vllm/v1/sample/logits_processor/interface.py and the
persistent batch (gpu_input_batch.py), what a processor can observe: the class is built with (vllm_config, device,
is_pin_memory); validate_params(params) runs per request; before each step update_state() receives a frozen
BatchUpdate (or None) whose `added` holds (index, params, prompt_tok_ids, output_tok_ids) with output_tok_ids the
request's own running list, whose `removed` lists freed indices, and whose `moved` lists (from, to, UNIDIRECTIONAL)
condense moves and (i, j, SWAP) swaps; a new request reuses the lowest freed index; apply(logits [num_reqs, vocab])
runs once per step; the sampled ids are then appended to each request's output list."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import telltale
from conftest import VOCAB, BigramModel, bits, make_hook, needs_torch
from telltale.vllm import WatermarkLogitsProcessor


class MoveDirectionality(enum.Enum):
    UNIDIRECTIONAL = enum.auto()
    SWAP = enum.auto()


@dataclass(frozen=True)
class BatchUpdate:
    batch_size: int
    removed: list[int]
    added: list[tuple[int, Any, list[int] | None, list[int]]]
    moved: list[tuple[int, int, MoveDirectionality]]


@dataclass
class SamplingParams:
    extra_args: dict[str, Any] | None = None
    seed: int | None = None


@dataclass
class Request:
    name: str
    prompt: list[int]
    params: SamplingParams
    output: list[int] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)  # the processed logits row of every step


def vllm_config(vocab: int = VOCAB) -> Any:
    return SimpleNamespace(model_config=SimpleNamespace(get_vocab_size=lambda: vocab),
                           scheduler_config=SimpleNamespace(max_num_seqs=8))


class StandInEngine:
    """The persistent batch and step loop of vLLM's model runner, reduced to what a logits processor observes."""

    def __init__(self, processor_cls: type, backend: str = "numpy") -> None:
        self.cls = processor_cls
        self.proc = processor_cls(vllm_config(), "cpu", False)
        self.backend = backend
        self.model = BigramModel()
        self.slots: list[Request | None] = []
        self.removed: list[int] = []
        self.added: list[tuple[int, Any, list[int] | None, list[int]]] = []
        self.moved: list[tuple[int, int, MoveDirectionality]] = []

    def add(self, req: Request) -> None:
        self.cls.validate_params(req.params)
        if self.removed:  # BatchUpdateBuilder.pop_removed: reuse the lowest freed index
            self.removed.sort()
            index = self.removed.pop(0)
        else:
            index = len(self.slots)
            self.slots.append(None)
        self.slots[index] = req
        self.added.append((index, req.params, req.prompt, req.output))

    def remove(self, req: Request) -> None:
        index = self.slots.index(req)
        self.slots[index] = None
        self.removed.append(index)

    def swap(self, i: int, j: int) -> None:
        self.slots[i], self.slots[j] = self.slots[j], self.slots[i]
        self.moved.append((i, j, MoveDirectionality.SWAP))

    def condense(self) -> None:
        """InputBatch.condense: move the last requests into the holes, one-way."""
        empty = sorted(i for i, s in enumerate(self.slots) if s is None)
        last = len(self.slots) - 1
        while empty:
            while last >= 0 and self.slots[last] is None:
                last -= 1
            hole = empty.pop(0)
            if hole >= last:
                break
            self.slots[hole], self.slots[last] = self.slots[last], None
            self.moved.append((last, hole, MoveDirectionality.UNIDIRECTIONAL))
        while self.slots and self.slots[-1] is None:
            self.slots.pop()

    def step(self) -> None:
        self.condense()
        update = None
        if self.removed or self.added or self.moved:
            update = BatchUpdate(len(self.slots), sorted(self.removed, reverse=True), self.added, self.moved)
        self.removed, self.added, self.moved = [], [], []
        self.proc.update_state(update)
        if not self.slots:
            return
        rows = np.stack([self.model.next_logits(r.prompt + r.output) for r in self.slots])
        logits: Any = rows
        if self.backend == "torch":
            import torch

            logits = torch.from_numpy(rows)
        out = self.proc.apply(logits)
        assert out is logits
        processed = np.asarray(out if self.backend == "numpy" else out.numpy())
        for r, req in enumerate(self.slots):
            req.rows.append(processed[r].copy())
            req.output.append(int(np.argmax(processed[r])))  # greedy: the sampled id joins vLLM's output list


def run_alone(cls: type, prompt: list[int], params: SamplingParams, steps: int) -> Request:
    engine = StandInEngine(cls)
    req = Request("ref", list(prompt), params)
    engine.add(req)
    for _ in range(steps):
        engine.step()
    return req


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=needs_torch)])
def test_each_request_matches_a_run_of_its_own_through_adds_removes_moves_and_swaps(keys, scheme, backend) -> None:
    cls = WatermarkLogitsProcessor.bind(make_hook(keys, scheme))
    engine = StandInEngine(cls, backend)
    rng = np.random.default_rng(4)
    reqs = [Request(f"r{i}", rng.integers(0, VOCAB, 3 + i).tolist(),
                    SamplingParams({"telltale_account": 100 + i}, seed=i)) for i in range(6)]
    steps_done: dict[str, int] = {}
    schedule = {0: ["add r0", "add r1", "add r2"], 2: ["add r3"], 3: ["swap 0 2"], 4: ["remove r1", "add r4"],
                6: ["remove r0"], 7: ["add r5", "swap 1 2"], 9: ["remove r3"], 11: ["swap 0 1"]}
    by_name = {r.name: r for r in reqs}
    active: list[Request] = []
    for step in range(14):
        for action in schedule.get(step, []):
            verb, *args = action.split()
            if verb == "add":
                engine.add(by_name[args[0]])
                active.append(by_name[args[0]])
            elif verb == "remove":
                engine.remove(by_name[args[0]])
                active.remove(by_name[args[0]])
                steps_done[args[0]] = len(by_name[args[0]].output)
            else:
                engine.swap(int(args[0]), int(args[1]))
        engine.step()
    assert len(engine.proc._rows) == len(active)
    for req in reqs:
        alone = run_alone(cls, req.prompt, req.params, len(req.output))
        assert req.output == alone.output, req.name
        assert all(np.array_equal(bits(a), bits(b)) for a, b in zip(req.rows, alone.rows)), req.name
    accounts = {e.seq.account for e in engine.proc._rows.values()}
    assert accounts == {100 + int(r.name[1:]) for r in active}


def test_rows_of_different_accounts_and_keys_do_not_leak_into_each_other(keys, other_keys) -> None:
    a = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))
    b = WatermarkLogitsProcessor.bind(make_hook(other_keys, "kgw"))
    prompt = [1, 2, 3, 4, 5]
    ra = run_alone(a, prompt, SamplingParams({"telltale_account": 1}), 12)
    rb = run_alone(b, prompt, SamplingParams({"telltale_account": 2}), 12)
    assert ra.output != rb.output  # different keys, same model: the watermark steers differently
    # The same two requests side by side in one batch of processor `a`, under different accounts:
    engine = StandInEngine(a)
    first = Request("x", list(prompt), SamplingParams({"telltale_account": 1}))
    second = Request("y", list(prompt), SamplingParams({"telltale_account": 2}))
    engine.add(first)
    engine.add(second)
    for _ in range(12):
        engine.step()
    assert first.output == ra.output and second.output == ra.output  # KGW does not key on the account


class CountingHook:
    """A Hook proxy that counts calls, to check one hook call per step for the whole batch."""

    def __init__(self, hook: telltale.Hook) -> None:
        self.hook, self.calls = hook, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hook, name)

    def bias(self, rows, logits, top_k: int = 0):
        self.calls.append(len(rows))
        return self.hook.bias(rows, logits, top_k)


def test_apply_makes_one_hook_call_for_the_whole_batch(keys) -> None:
    counting = CountingHook(make_hook(keys, "kgw"))
    engine = StandInEngine(WatermarkLogitsProcessor.bind(counting))  # type: ignore[arg-type]
    for i in range(5):
        engine.add(Request(str(i), [i, i + 1, i + 2], SamplingParams()))
    for _ in range(3):
        engine.step()
    assert counting.calls == [5, 5, 5]


def test_the_processor_declares_what_vllm_asks(keys) -> None:
    proc = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))(vllm_config(), "cpu", False)
    assert proc.is_argmax_invariant() is False
    assert proc.needs_output_token_ids() is True


def test_gumbel_leaves_one_finite_logit_per_row(keys) -> None:
    engine = StandInEngine(WatermarkLogitsProcessor.bind(make_hook(keys, "gumbel")))
    for i in range(3):
        engine.add(Request(str(i), [i, 2 * i, 3 * i, 4 * i], SamplingParams()))
    engine.step()
    for req in engine.slots:
        assert req is not None and np.isfinite(req.rows[0]).sum() == 1


def test_bad_accounts_are_refused_by_validate_params(keys) -> None:
    cls = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))
    for bad in ("alice", -1, 1 << 64, 1.5, True):
        with pytest.raises(ValueError, match="telltale_account"):
            cls.validate_params(SamplingParams({"telltale_account": bad}))
    cls.validate_params(SamplingParams({"telltale_account": "42"}))  # vllm_xargs may carry numbers as strings
    cls.validate_params(SamplingParams(None))


def test_placeholder_output_ids_are_not_fed_until_they_are_real(keys) -> None:
    proc = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))(vllm_config(), "cpu", False)
    output: list[int] = []
    proc.update_state(BatchUpdate(1, [], [(0, SamplingParams(), [1, 2, 3], output)], []))
    output.extend([7, -1])
    proc.update_state(None)
    assert proc._rows[0].seq.accepted == 4
    output[1] = 8
    proc.update_state(None)
    assert proc._rows[0].seq.window == [1, 2, 3, 7, 8][-4:]


def test_an_unbound_class_reads_the_hook_from_the_environment(tmp_path, monkeypatch, keys) -> None:
    path = tmp_path / "wm.key"
    keys.save(str(path))
    monkeypatch.setenv("TELLTALE_KEY_FILE", str(path))
    monkeypatch.setenv("TELLTALE_SCHEME", "gumbel")
    monkeypatch.setenv("TELLTALE_PARAMS", "context_width=2,skip_repeated_contexts=false")
    proc = WatermarkLogitsProcessor(vllm_config(), "cpu", False)
    assert proc._hook.scheme == "gumbel" and proc._mode == "choose"
    assert proc._hook.params.context_width == 2 and not proc._hook.params.skip_repeated_contexts
    monkeypatch.delenv("TELLTALE_KEY_FILE")
    with pytest.raises(RuntimeError, match="TELLTALE_KEY_FILE"):
        WatermarkLogitsProcessor(vllm_config(), "cpu", False)
    assert os.environ.get("TELLTALE_SCHEME") == "gumbel"


@needs_torch
def test_torch_logits_are_edited_in_place_with_no_copy(keys) -> None:
    import torch

    proc = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))(vllm_config(), "cpu", False)
    proc.update_state(BatchUpdate(1, [], [(0, SamplingParams(), [1, 2, 3, 4], [])], []))
    logits = torch.from_numpy(BigramModel().next_logits([1, 2, 3, 4])[None, :].copy())
    address, before = logits.data_ptr(), logits.clone()
    out = proc.apply(logits)
    assert out is logits and logits.data_ptr() == address and not torch.equal(logits, before)


def test_a_one_way_move_replaces_the_destination_and_a_swap_exchanges(keys) -> None:
    proc = WatermarkLogitsProcessor.bind(make_hook(keys, "kgw"))(vllm_config(), "cpu", False)
    added = [(i, SamplingParams({"telltale_account": i}), [i], []) for i in range(3)]
    proc.update_state(BatchUpdate(3, [], added, []))
    proc.update_state(BatchUpdate(3, [], [], [(0, 2, MoveDirectionality.SWAP)]))
    assert {i: e.seq.account for i, e in proc._rows.items()} == {0: 2, 1: 1, 2: 0}
    proc.update_state(BatchUpdate(2, [], [], [(0, 1, MoveDirectionality.UNIDIRECTIONAL)]))
    assert {i: e.seq.account for i, e in proc._rows.items()} == {1: 2, 2: 0}
