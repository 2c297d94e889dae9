"""The evidence record (record.json of a bundle made by `telltale detect --bundle`, `telltale radioactivity score
--bundle` or `telltale attribute --bundle`) validates against the versioned JSON Schema in spec/evidence-bundle.schema.json, with Debian's
python3-jsonschema; and the schema is strict enough to refuse a record with a field missing or of the wrong type."""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess

import pytest
from conftest import ROOT, SHARED, telltale_binary

jsonschema = pytest.importorskip("jsonschema", reason="python3-jsonschema is not installed (scripts/setup installs it)")

SCHEMA = json.loads((ROOT / "spec" / "evidence-bundle.schema.json").read_text())
MODEL = SHARED / "models" / "stories260K"


def run(*args: object, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", params=["kgw", "tournament"])
def record(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    t = telltale_binary()
    d = tmp_path_factory.mktemp("bundle")
    assert run(t, "keygen", "--out", "wm.key", cwd=d).returncode == 0
    assert run(t, "keygen", "--signing", "--out", "sign.key", cwd=d).returncode == 0
    gen = run(t, "generate", "--key", "wm.key", "-m", MODEL / "stories260K.bin", "-t", MODEL / "tok512.model",
              "-n", "60", "-c", "2", "--jsonl", "--scheme", request.param, cwd=d)
    assert gen.returncode == 0, gen.stderr
    (d / "gen.jsonl").write_text(gen.stdout)
    det = run(t, "detect", "-q", "--key", "wm.key", "-t", MODEL / "tok512.model", "--field", "completion",
              "--scheme", request.param, "--window", "16", "--bundle", "b", "--signing-key", "sign.key", "gen.jsonl",
              cwd=d)
    assert det.returncode in (0, 1), det.stderr
    return json.loads((d / "b" / "record.json").read_text())


@pytest.fixture(scope="module", params=["open", "closed"])
def radio_record(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A radioactivity record: the reference model's predictions on watermarked stories through the teacher filter
    (open), or the stories as answers to a prompt (closed)."""
    t = telltale_binary()
    tok = MODEL / "tok512.model"
    d = tmp_path_factory.mktemp("radio-bundle")
    assert run(t, "keygen", "--out", "wm.key", cwd=d).returncode == 0
    assert run(t, "keygen", "--signing", "--out", "sign.key", cwd=d).returncode == 0
    gen = run(t, "generate", "--key", "wm.key", "-m", MODEL / "stories260K.bin", "-t", tok, "-n", "80", "-c", "2",
              "--jsonl", cwd=d)
    assert gen.returncode == 0, gen.stderr
    (d / "gen.jsonl").write_text(gen.stdout)
    assert run(t, "radioactivity", "filter", "-t", tok, "-f", "completion", "--out", "t.ttcf", "gen.jsonl",
               cwd=d).returncode == 0
    if request.param == "open":
        pred = run(t, "radioactivity", "predict", "-m", MODEL / "stories260K.bin", "-t", tok, "-f", "completion",
                   "--out", "p.jsonl", "gen.jsonl", cwd=d)
        assert pred.returncode == 0, pred.stderr
        suspect = ["--predictions", "p.jsonl"]
    else:
        answers = [json.dumps({"prompt": "Once upon a time", "response": json.loads(line)["completion"]})
                   for line in gen.stdout.splitlines()]
        (d / "answers.jsonl").write_text("\n".join(answers) + "\n")
        suspect = ["--answers", "answers.jsonl"]
    score = run(t, "radioactivity", "score", "-k", "wm.key", "-t", tok, *suspect, "--filter", "t.ttcf", "--bundle",
                "b", "--signing-key", "sign.key", cwd=d)
    assert score.returncode in (0, 1), score.stderr
    return json.loads((d / "b" / "record.json").read_text())


def assert_invalid_when_changed(record: dict, path: tuple, value: object = None, remove: bool = False) -> None:
    """A copy of the record with the field at `path` set to `value` (or removed) fails validation."""
    bad = copy.deepcopy(record)
    target = bad
    for key in path[:-1]:
        target = target[key]
    if remove:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_a_record_validates_against_the_schema(record: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(record)


@pytest.mark.parametrize(
    "path, value",
    [
        (("format",), "telltale-evidence-0"),
        (("software", "executable_sha256"), "not hex"),
        (("result", "p_value"), "0.01"),
        (("result", "detected"), 1),
        (("recipe", "scheme", "name"), "unknown"),
        (("input_files", 0, "bytes"), -1),
        (("signer", "algorithm"), "rsa"),
    ],
)
def test_a_wrong_type_or_value_fails_validation(record: dict, path: tuple, value: object) -> None:
    assert_invalid_when_changed(record, path, value)


@pytest.mark.parametrize("field", SCHEMA["required"] + SCHEMA["$defs"]["detection"]["required"])
def test_every_required_field_is_required(record: dict, field: str) -> None:
    assert_invalid_when_changed(record, (field,), remove=True)


def test_a_radioactivity_record_validates_against_the_schema(radio_record: dict) -> None:
    assert radio_record["test"] == "radioactivity"
    jsonschema.Draft202012Validator(SCHEMA).validate(radio_record)


@pytest.mark.parametrize(
    "path, value",
    [
        (("test",), "attribution"),
        (("recipe", "mode"), "half-open"),
        (("recipe", "top_k"), 0),
        (("recipe", "filter"), 3),
        (("result", "scored_tuples"), -1),
        (("result", "mode"), "open"),
        (("result", "counts", "records"), "four"),
        (("plots", 0, "curve", "points"), [[1, 2, 3]]),
        (("plots", 0, "scores"), None),
        (("input_files", 0, "sha256"), "abc"),
    ],
)
def test_a_wrong_type_or_value_in_a_radioactivity_record_fails_validation(radio_record: dict, path: tuple,
                                                                          value: object) -> None:
    assert_invalid_when_changed(radio_record, path, value)


def test_the_recipe_names_the_file_of_its_mode_only(radio_record: dict) -> None:
    bad = copy.deepcopy(radio_record)
    bad["recipe"]["predictions"], bad["recipe"]["answers"] = bad["recipe"]["answers"], bad["recipe"]["predictions"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


RADIO = SCHEMA["$defs"]["radioactivity"]["properties"]


@pytest.mark.parametrize(
    "path",
    [(f,) for f in SCHEMA["required"]]
    + [("test",)]
    + [("recipe", f) for f in RADIO["recipe"]["required"]]
    + [("result", f) for f in RADIO["result"]["required"]]
    + [("plots", 0, f) for f in RADIO["plots"]["items"]["required"]],
)
def test_every_required_radioactivity_field_is_required(radio_record: dict, path: tuple) -> None:
    assert_invalid_when_changed(radio_record, path, remove=True)


@pytest.fixture(scope="module")
def attrib_record(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An attribution record: two fingerprinted stories of account 77 tested against a registry of 52 accounts."""
    t = telltale_binary()
    tok = MODEL / "tok512.model"
    d = tmp_path_factory.mktemp("attrib-bundle")
    assert run(t, "keygen", "--out", "wm.key", cwd=d).returncode == 0
    assert run(t, "keygen", "--signing", "--out", "sign.key", cwd=d).returncode == 0
    gen = run(t, "generate", "--key", "wm.key", "--scheme", "fingerprint", "--account", "77", "-m",
              MODEL / "stories260K.bin", "-t", tok, "-n", "200", "-c", "2", "--top-p", "1", "--jsonl", cwd=d)
    assert gen.returncode == 0, gen.stderr
    (d / "gen.jsonl").write_text(gen.stdout)
    (d / "reg.txt").write_text("".join(f"{i}\n" for i in [77] + list(range(1000, 1051))))
    att = run(t, "attribute", "-q", "-k", "wm.key", "-t", tok, "-r", "reg.txt", "-f", "completion", "--bundle", "b",
              "--signing-key", "sign.key", "gen.jsonl", cwd=d)
    assert att.returncode in (0, 1), att.stderr
    return json.loads((d / "b" / "record.json").read_text())


def test_an_attribution_record_validates_against_the_schema(attrib_record: dict) -> None:
    assert attrib_record["test"] == "attribution"
    jsonschema.Draft202012Validator(SCHEMA).validate(attrib_record)


@pytest.mark.parametrize(
    "path, value",
    [
        (("test",), "attributions"),
        (("recipe", "scheme", "name"), "kgw"),
        (("recipe", "registry"), ""),
        (("recipe", "top"), -1),
        (("recipe", "inputs"), ["-"]),
        (("recipe", "rules", "dedup"), False),
        (("result", "attributed"), "yes"),
        (("result", "format"), "telltale-detect-1"),
        (("result", "accounts_tested"), 0),
        (("plots", 0, "curve", "points"), [[1, 2]]),
        (("input_files", 0, "sha256"), "abc"),
    ],
)
def test_a_wrong_type_or_value_in_an_attribution_record_fails_validation(attrib_record: dict, path: tuple,
                                                                         value: object) -> None:
    assert_invalid_when_changed(attrib_record, path, value)


def test_the_fingerprint_scheme_needs_its_account_delta(attrib_record: dict) -> None:
    assert_invalid_when_changed(attrib_record, ("recipe", "scheme", "account_delta"), remove=True)


ATTRIB = SCHEMA["$defs"]["attribution"]["properties"]


@pytest.mark.parametrize(
    "path",
    [(f,) for f in SCHEMA["required"]]
    + [("test",)]
    + [("recipe", f) for f in ATTRIB["recipe"]["required"]]
    + [("result", f) for f in ATTRIB["result"]["required"]]
    + [("plots", 0, f) for f in ATTRIB["plots"]["items"]["required"]],
)
def test_every_required_attribution_field_is_required(attrib_record: dict, path: tuple) -> None:
    assert_invalid_when_changed(attrib_record, path, remove=True)
