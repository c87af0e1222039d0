"""One --json convention: each command prints one object whose keys are the ones its docs table
lists (``schema`` 1, ``command`` naming it). The eval commands are checked in
tests/metrics/test_cli.py and the claims' objects in tests/claims/test_claims.py."""

import json

import pytest

from gantheory.cli import main
from tests.docs_keys import documented_keys
from tests.mnist.tiny import cli_args

TRAIN_DOC = ("training.md", "## `gantheory train mnist --json`")
# train's optional keys, each documented in the prose under its table
TRAIN_OPTIONAL = {"resumed_from_step"}


def _one_object(argv, capsys) -> dict:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out  # one object, nothing else on stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny synthetic run, trained once through the console entry point with --json."""
    out = tmp_path_factory.mktemp("run") / "r"
    pytest.MonkeyPatch().setenv("GANTHEORY_OFFLINE", "1")
    from gantheory.mnist.cli import main as train_main
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = train_main([*cli_args(), "--epochs", "1", "--out", str(out), "--no-progress",
                           "--json"])
    assert code == 0
    return out, buf.getvalue()


def test_train_json_has_exactly_the_documented_keys(trained):
    _, stdout = trained
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    obj = json.loads(lines[0])
    doc = documented_keys(*TRAIN_DOC)
    assert set(obj) <= doc | TRAIN_OPTIONAL and doc <= set(obj), set(obj) ^ doc
    assert obj["schema"] == 1 and obj["command"] == "train mnist" and obj["epoch"] == 1


def test_train_resume_of_a_finished_run_keeps_the_schema(trained, capsys):
    out, _ = trained
    obj = _one_object(["train", "mnist", *cli_args(), "--epochs", "1", "--out", str(out),
                       "--resume", "--no-progress", "--json"], capsys)
    assert set(obj) == documented_keys(*TRAIN_DOC) and obj["already_complete"] is True


def test_train_dry_run_json_has_the_keys_its_docs_name(capsys):
    obj = _one_object(["train", "mnist", *cli_args(), "--dry-run", "--json"], capsys)
    assert set(obj) == {"schema", "command", "dry_run", "device", "images", "batches",
                        "steps_per_epoch", "d_loss", "g_loss", "d_real", "d_fake", "wall_s"}
    assert obj["dry_run"] is True and obj["schema"] == 1


@pytest.mark.parametrize("target", ["s.npz", "pngs"])
def test_sample_json_has_exactly_the_documented_keys(trained, target, tmp_path, capsys):
    run, _ = trained
    obj = _one_object(["sample", "--checkpoint", str(run), "--n", "12", "--out",
                       str(tmp_path / target), "--json"], capsys)
    assert set(obj) == documented_keys("training.md", "## `gantheory sample --json`")
    assert obj["schema"] == 1 and obj["command"] == "sample" and obj["n_samples"] == 12
    assert set(obj["source"]) <= documented_keys("evaluation.md", "### `source`")
    assert obj["format"] == ("npz" if target.endswith(".npz") else "png")


def test_verify_json_has_exactly_the_documented_keys(capsys):
    # one object per claim; a single claim prints one object
    obj = _one_object(["verify", "symbolic", "--json"], capsys)
    assert set(obj) == documented_keys("theory.md", "Each claim prints one JSON object")
    assert obj["claim"] == "symbolic" and isinstance(obj["schema"], int)
