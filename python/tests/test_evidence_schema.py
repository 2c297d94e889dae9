"""The evidence record (record.json of a bundle made by `telltale detect --bundle`) validates against the versioned
JSON Schema in spec/evidence-bundle.schema.json, with Debian's python3-jsonschema; and the schema is strict enough to
refuse a record with a field missing or of the wrong type."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess

import pytest

jsonschema = pytest.importorskip("jsonschema", reason="python3-jsonschema is not installed (scripts/setup installs it)")

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "spec" / "evidence-bundle.schema.json").read_text())
SHARED = pathlib.Path(os.environ.get("TELLTALE_SHARED_DIR", ROOT.parent / "shared"))
MODEL = SHARED / "models" / "stories260K"


def telltale_binary() -> pathlib.Path:
    build = os.environ.get("TELLTALE_BUILD_DIR")
    if not build:
        pytest.skip("TELLTALE_BUILD_DIR is not set (scripts/test-python sets it)")
    path = pathlib.Path(build) / "verify" / "telltale"
    assert path.exists(), f"{path} was not built"
    return path


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
    bad = copy.deepcopy(record)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


@pytest.mark.parametrize("field", SCHEMA["required"])
def test_every_required_field_is_required(record: dict, field: str) -> None:
    bad = copy.deepcopy(record)
    del bad[field]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)
