"""The CLI answers at once and quietly: parsing imports no TensorFlow, its logs stay hidden
unless --verbose, --version reads the package metadata, errors are one line (traceback with
--verbose)."""

import importlib.metadata
import os
import re
import subprocess
import sys

import keras
import pytest

from emolens import cli
from emolens._quiet import _filtered_stderr, is_noise
from emolens.cli import EXIT_FAILURE, EXIT_USAGE, main
from emolens.models import zoo

HEAVY = ("tensorflow", "keras", "jax", "torch")
# What TensorFlow 2.21 printed on this machine at `import tensorflow` and at its first op.
TF_LOG_LINES = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796166598.179201    7520 cudart_stub.cc:31] Could not find cuda drivers on "
    b"your machine, GPU will not be used.\n",
    b"I0000 00:00:1796166598.395340    7520 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized to use available CPU instructions in performance-critical operations.\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    b"with the appropriate compiler flags.\n",
    b"E0000 00:00:1796166663.073768    7965 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    b"CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
    b"W0000 00:00:1796166663.073768    7965 some_op.cc:12] a C++ warning\n",
]
LINES_TO_KEEP = [
    b"/x/y.py:3: UserWarning: a Python warning the user should see\n",
    b"E0000 00:00:1796166663.073768    7965 bfc_allocator.cc:47] Out of memory allocating 4 GiB\n",
    b"emolens evaluate: error: something\n",
]
LOG_LINE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|cpu_feature_guard|oneDNN|cuInit")


def _imported_modules(*argv: str) -> set[str]:
    """Top-level names of every module `python -m emolens *argv` imported (-X importtime)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "emolens", *argv], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage: emolens" in proc.stdout or argv == ("--version",), proc.stdout
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+([\w.]+)$", proc.stderr, re.M)
    assert "emolens.cli" in [name.strip() for name in names]  # the profile was read
    return {name.strip().split(".")[0] for name in names}


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("--version",), *[(name, "--help") for name in cli.COMMANDS]],
    ids=lambda argv: " ".join(argv),
)
def test_help_and_version_import_no_tensorflow(argv):
    heavy = set(HEAVY) & _imported_modules(*argv)
    assert not heavy, f"`emolens {' '.join(argv)}` imported {sorted(heavy)} before answering"


def test_the_console_script_answers_help_without_tensorflow():
    script = os.path.join(os.path.dirname(sys.executable), "emolens")
    code = (
        f"import runpy, sys; sys.argv = [{script!r}, 'evaluate', '--help']\n"
        f"try:\n    runpy.run_path({script!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        f"print(sorted(set(sys.modules) & {set(HEAVY)!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage: emolens evaluate" in proc.stdout
    assert proc.stdout.rstrip().endswith("[]"), proc.stdout[-300:]


def test_version_prints_the_installed_distributions_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"emolens {importlib.metadata.version('emolens')}\n"


@pytest.mark.parametrize("line", TF_LOG_LINES)
def test_tensorflow_log_lines_are_noise(line):
    assert is_noise(line)


@pytest.mark.parametrize("line", LINES_TO_KEEP)
def test_warnings_and_real_errors_are_kept(line):
    assert not is_noise(line)


def test_filtered_stderr_drops_the_logs_and_replays_the_rest_in_order(capfd):
    with _filtered_stderr():
        for line in [TF_LOG_LINES[0], LINES_TO_KEEP[0], TF_LOG_LINES[1], LINES_TO_KEEP[1]]:
            os.write(2, line)  # as C++ code writes: straight to descriptor 2
    assert capfd.readouterr().err == (LINES_TO_KEEP[0] + LINES_TO_KEEP[1]).decode()


def test_filtered_stderr_restores_descriptor_2_when_the_last_flush_fails(monkeypatch):
    """A full disk under the capture file fails the final flush: descriptor 2 must still come
    back (before, it stayed on the deleted temp file and every later error line vanished)."""

    class Failing:
        failing = False

        def write(self, text):
            return len(text)

        def flush(self):
            if self.failing:
                raise OSError(28, "No space left on device")

    before, fds = os.fstat(2), len(os.listdir("/proc/self/fd"))
    stderr = Failing()
    monkeypatch.setattr(sys, "stderr", stderr)
    with _filtered_stderr():
        stderr.failing = True
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    assert len(os.listdir("/proc/self/fd")) == fds  # the saved copy of descriptor 2 is closed


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("startup") / "tiny.keras"
    zoo.build("vgg", "emo3", (48, 48, 1), widths=(4,)).save(path)
    return path


def test_a_real_run_prints_no_tensorflow_logs_unless_verbose(tiny_model):
    argv = ["evaluate", "--model", str(tiny_model), "--classes", "emo3", "--limit", "8"]
    runs = {}
    for flags in ([], ["--verbose"]):
        proc = subprocess.run(
            [sys.executable, "-m", "emolens", *flags, *argv, "--no-tta"],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[bool(flags)] = proc
    quiet, verbose = runs[False], runs[True]
    assert not [line for line in quiet.stderr.splitlines() if LOG_LINE.search(line)], quiet.stderr
    assert quiet.stdout == verbose.stdout and "images 8  accuracy" in quiet.stdout
    # --verbose leaves TensorFlow alone: on a machine where it logs at start-up, the logs show.
    assert verbose.stderr == "" or any(LOG_LINE.search(ln) for ln in verbose.stderr.splitlines())


def test_an_error_is_one_line_without_verbose(capsys, tmp_path):
    assert main(["evaluate", "--model", str(tmp_path / "gone.keras")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("emolens evaluate: error: ") and "gone.keras' not found" in err


@pytest.mark.parametrize("position", ["before", "after"])
def test_verbose_adds_the_traceback_before_the_error_line(capsys, tmp_path, position):
    argv = ["evaluate", "--model", str(tmp_path / "gone.keras")]
    argv = ["--verbose", *argv] if position == "before" else [*argv, "--verbose"]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert any("FileNotFoundError" in line for line in err[:-1])
    assert err[-1].startswith("emolens evaluate: error: ") and "gone.keras' not found" in err[-1]


def test_an_unexpected_error_is_one_line_exit_1_and_points_to_verbose(capsys, monkeypatch):
    from emolens.commands import models as models_command

    def broken(args):
        raise KeyError("cards")

    monkeypatch.setattr(models_command, "run", broken)
    assert main(["models"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert (
        err == "emolens models: error: KeyError: 'cards' (rerun with --verbose for the traceback)\n"
    )
    assert main(["--verbose", "models"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith(
        "emolens models: error: KeyError: 'cards'\n"
    )
