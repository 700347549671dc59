"""Wrong output kinds and impossible counts are refused while parsing, before any work.

Before, `--out` naming a file for a folder (or the reverse) failed after the work with
exit 1 (the bug code), `--limit 0` ran on 300 synthetic images, and `--batch-size 0`
crashed training with ZeroDivisionError.
"""

from __future__ import annotations

import argparse

import pytest

from emolens.cli import EXIT_USAGE, build_parser, main

FOLDER_OUTS = [
    ["explain", "photos", "--out", "{file}"],
    ["index", "--data", "synthetic:8", "--out", "{file}"],
    ["train", "--out", "{file}"],
    ["export-space", "{file}"],
    ["benchmark-explanations", "--out", "{file}"],
]
FILE_OUTS = [
    ["evaluate", "--out", "{folder}"],
    ["export", "--out", "{folder}"],
]
COUNTS = [
    ["train", "--batch-size", "0"],
    ["train", "--epochs", "-1"],
    ["train", "--limit", "0"],
    ["evaluate", "--limit", "0"],
    ["explain", "photos", "--batch-size", "0"],
    ["index", "--data", "synthetic:8", "--out", "s", "--batch-size", "0"],
    ["benchmark-explanations", "--n", "0"],
]


def _refused(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == EXIT_USAGE
    return capsys.readouterr().err


@pytest.mark.parametrize("argv", FOLDER_OUTS, ids=lambda a: a[0])
def test_a_file_where_a_folder_goes_is_refused(capsys, tmp_path, argv):
    file = tmp_path / "report.html"
    file.write_text("an earlier file")
    err = _refused(capsys, [a.format(file=file) for a in argv])
    assert f"{str(file)!r} is a file; pass a folder" in err
    assert file.read_text() == "an earlier file"


@pytest.mark.parametrize("argv", FILE_OUTS, ids=lambda a: a[0])
def test_a_folder_where_a_file_goes_is_refused(capsys, tmp_path, argv):
    err = _refused(capsys, [a.format(folder=tmp_path) for a in argv])
    assert f"{str(tmp_path)!r} is a folder; pass a file name" in err


@pytest.mark.parametrize("argv", COUNTS, ids=lambda a: f"{a[0]} {a[-2]} {a[-1]}")
def test_counts_below_one_are_refused(capsys, argv):
    err = _refused(capsys, argv)
    assert f"argument {argv[-2]}: must be at least 1; got {int(argv[-1])}" in err


def test_good_values_parse():
    args = build_parser().parse_args(["train", "--batch-size", "32", "--out", "new/folder"])
    assert args.batch_size == 32 and args.out == "new/folder"
    for command in (["evaluate"], ["index", "--out", "s"]):  # both feed the model its range
        assert build_parser().parse_args([*command, "--input-range=-1,1"]).input_range == "-1,1"
    with pytest.raises(argparse.ArgumentTypeError, match="whole number; got 'x'"):
        from emolens.commands._options import positive_int

        positive_int("x")


def test_permission_denied_is_the_users_to_fix(capsys, tmp_path, monkeypatch):
    """An OS refusal the user can fix (permissions, a file in the way) exits 2, not 1."""
    from emolens.commands import evaluate

    def denied(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "metrics.json"))

    monkeypatch.setattr(evaluate, "run", denied)
    assert main(["evaluate", "--limit", "8"]) == EXIT_USAGE
    assert "Permission denied" in capsys.readouterr().err


def test_benchmark_methods_must_name_one(capsys, tmp_path):
    argv = ["benchmark-explanations", "--methods", " , ", "--out", str(tmp_path / "b")]
    assert main(argv) == EXIT_USAGE
    assert "--methods ' , ' names no method" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
