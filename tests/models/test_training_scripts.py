"""The training scripts (models/train_*.sh, models/gpu/schedule*.sh) hold commands that run for
hours, some only on a lent GPU: a misspelt flag or a chain that starts from a run no script
makes would surface only then. Here every command they issue is recorded by a fake `emolens`
and parsed by the real `emolens train` parser, and every chain is checked to start from a run
that some script trains."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from emolens.cli import build_parser, train_config
from emolens.models import zoo

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["models/train_zoo.sh", "models/train_lineup.sh", "models/train_transfer.sh"]
SCHEDULES = [
    "models/gpu/schedule.sh",
    "models/gpu/schedule_round2.sh",
    "models/gpu/schedule_round3.sh",
]
FAKE = """#!/usr/bin/env bash
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$RECORD"
"""


def _recorded(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.fixture(scope="module")
def commands(tmp_path_factory) -> dict[str, list[list[str]]]:
    """{script: the argument lists it passed to `emolens`}, each script run with a fake."""
    tmp = tmp_path_factory.mktemp("scripts")
    fake = tmp / "emolens"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    found = {}
    for script in SCRIPTS:
        record = tmp / (Path(script).stem + ".txt")
        record.touch()
        env = {**os.environ, "EMOLENS": str(fake), "RECORD": str(record)}
        done = subprocess.run(
            ["bash", str(ROOT / script), "DATA", str(tmp / "OUT")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{script} failed: {done.stderr}"
        found[script] = _recorded(record)
    # the schedules are sourced by lease.sh, which defines `run NAME ARGS...`
    for schedule in SCHEDULES:
        record = tmp / (Path(schedule).stem + ".txt")
        record.touch()
        run = f"""run() {{ local name=$1; shift; "{fake}" train --name "$name" "$@"; }}"""
        done = subprocess.run(
            ["bash", "-c", f"set -u; {run}; source {schedule}"],
            cwd=ROOT,
            env={**os.environ, "RECORD": str(record)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{schedule} failed: {done.stderr}"
        found[schedule] = _recorded(record)
    return found


def test_every_script_issues_its_runs(commands):
    """The fake saw each script's runs (a broken `run` function would record none)."""
    counts = {script: len(calls) for script, calls in commands.items()}
    assert counts["models/train_zoo.sh"] >= 8, counts
    assert counts["models/train_lineup.sh"] >= 5, counts
    assert counts["models/train_transfer.sh"] == 6, counts
    assert counts["models/gpu/schedule.sh"] == 6, counts
    assert counts["models/gpu/schedule_round2.sh"] == 6, counts
    assert counts["models/gpu/schedule_round3.sh"] == 6, counts


def _trains(commands) -> list[tuple[str, list[str]]]:
    return [(s, args) for s, calls in commands.items() for args in calls if args[0] == "train"]


def _soups(commands) -> list[tuple[str, list[str]]]:
    return [(s, args) for s, calls in commands.items() for args in calls if args[0] == "soup"]


def test_every_command_parses_with_the_real_train_flags(commands):
    parser = build_parser()
    for script, calls in commands.items():
        for args in calls:
            assert args[0] in ("train", "soup"), f"{script}: {shlex.join(args)}"
            if args[0] == "soup":
                try:
                    parser.parse_args(args)
                except SystemExit:
                    pytest.fail(f"{script} issues a command emolens soup refuses: {args}")
                continue
            try:
                cfg = train_config(parser.parse_args(args))
            except SystemExit:  # argparse printed the unknown or malformed flag
                pytest.fail(f"{script} issues a command emolens train refuses: {shlex.join(args)}")
            assert cfg.arch in zoo.architectures(), f"{script}: unknown --arch {cfg.arch}"
            assert cfg.name, f"{script}: a run without --name: {shlex.join(args)}"


def test_every_chain_starts_from_a_run_some_script_trains(commands):
    """--init OUT/NAME/NAME.keras must name a run a script trains; teachers must be bundled
    models or such runs."""
    parser = build_parser()
    configs = [train_config(parser.parse_args(args)) for _, args in _trains(commands)]
    trained = {cfg.name for cfg in configs}
    for script, args in _soups(commands):  # a soup averages runs a script trains
        soup = parser.parse_args(args)
        for path in map(Path, soup.models.split(",")):
            assert path.parent.name == path.stem and path.stem in trained, (
                f"{script}: soup {soup.name} averages {path}, which no script makes"
            )
        trained.add(soup.name)
    for cfg in configs:
        if cfg.init:
            init = Path(cfg.init)
            # OUT/NAME/NAME.keras, or on a GPU lease .gpu/init/NAME.keras (prepare.sh halves it)
            assert init.suffix == ".keras", cfg.init
            assert init.parent.name in (init.stem, "init"), cfg.init
            assert init.stem in trained, f"{cfg.name} starts from {cfg.init}, which no script makes"
        for teacher in filter(None, (cfg.teacher or "").split(",")):
            if teacher.endswith(".keras"):  # OUT/NAME/NAME.keras or OUT/gpu/NAME/NAME.keras
                assert Path(teacher).stem in trained, (
                    f"{cfg.name}'s teacher {teacher} is a run no script makes"
                )
            else:  # a name is looked up among the bundled models: a run's name would fail
                assert teacher in zoo.bundled(), (
                    f"{cfg.name}'s teacher {teacher} is not bundled: name its run's file, "
                    f"OUT/{teacher}/{teacher}.keras"
                )


def test_every_bundled_model_is_made_by_a_script(commands):
    """A fresh clone can remake what ships: each bundled model is a run or a soup of a training
    script, except the two ground-truth probes, which models/train_groundtruth.py makes."""
    parser = build_parser()
    made = {train_config(parser.parse_args(args)).name for _, args in _trains(commands)}
    made |= {parser.parse_args(args).name for _, args in _soups(commands)}
    probes = {"mouth_emo3", "shortcut_emo3"}
    assert probes <= set(zoo.bundled())
    missing = set(zoo.bundled()) - made - probes
    assert not missing, f"bundled, but no script makes them: {sorted(missing)}"
