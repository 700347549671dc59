"""`emolens dashboard`: the Streamlit command line and the options it hands to the app."""

from __future__ import annotations

import pytest

from emolens.cli import build_parser, main
from emolens.commands.dashboard import app_path, dashboard_env, streamlit_command
from emolens.dashboard.settings import read_settings


def _args(*flags: str):
    return build_parser().parse_args(["dashboard", *flags])


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_binds_to_localhost_headless_by_default():
    command = streamlit_command(_args())
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4] == str(app_path()) and app_path().name == "app.py" and app_path().is_file()
    assert _flag(command, "--server.address") == "127.0.0.1"
    assert _flag(command, "--server.port") == "8501"
    assert _flag(command, "--server.headless") == "true"
    assert _flag(command, "--browser.gatherUsageStats") == "false"
    assert _flag(command, "--server.maxUploadSize") == "20"


def test_host_and_port_are_passed_on():
    command = streamlit_command(_args("--host", "0.0.0.0", "--port", "9000"))
    assert _flag(command, "--server.address") == "0.0.0.0"
    assert _flag(command, "--server.port") == "9000"


def test_options_reach_the_app_through_its_settings(tmp_path, monkeypatch):
    model = tmp_path / "mine.keras"
    model.write_bytes(b"")
    (tmp_path / "store").mkdir()
    flags = ["--model", str(model), "--classes", "neg,pos", "--input-range=-1,1"]
    env = dashboard_env(
        _args(*flags, "--data", str(tmp_path), "--store", str(tmp_path / "store")), base={}
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = read_settings()
    assert settings.model == str(model) and settings.user_model_label == "mine.keras (yours)"
    assert (settings.classes, settings.input_range) == ("neg,pos", "-1,1")
    assert settings.data == str(tmp_path) and settings.store == str(tmp_path / "store")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "/no/such/model.keras"], "--model '/no/such/model.keras': no such file"),
        (["--store", "/no/such/store"], "--store '/no/such/store': no such folder"),
        (["--classes", "emo3"], "pass --model PATH too"),
        (["--port", "0"], "--port must be 1..65535"),
    ],
)
def test_bad_options_exit_2_before_starting(capsys, flags, message):
    assert main(["dashboard", *flags]) == 2
    assert message in capsys.readouterr().err
