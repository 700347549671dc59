"""`emolens index --engine ray` (Ray Data actors on a local Ray instance) writes the store the
serial engine writes: every shard and class-mean file byte-identical, the manifest equal but for
its dates. A worker that dies mid-shard is restarted by Ray and its shard retried: no partial
shard, no temp file, the same store. A store started by one engine is finished by the other.
`--address` joins a running cluster (a loopback-only `ray start --head` with token auth) and
writes the same store.

Slow: Ray starts worker processes that each import TensorFlow (a minute on a busy 2-core box).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from emolens.explain.store import index, open_store
from emolens.explain.store._ray import SETUP
from emolens.models import zoo
from tests.explain.store import ray_crash
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file

ray = pytest.importorskip("ray", reason="needs the scale extra: pip install -e '.[scale]'")

pytestmark = pytest.mark.slow

COUNT = 200  # 7 shards of 32 (the last one 8 images)
OPTIONS = {"classes": "emo3", "shard_size": 32, "batch_size": 16}
METHODS = ["grad_cam", "saliency"]  # the fused Grad-CAM pass, and a method from explain.METHODS
DATES = ("created", "completed")
ROOT = Path(__file__).resolve().parents[3]
HEAD_START_S = 180  # `ray start --head` on a loaded 2-core machine takes 10-30 s


def _final_files(store: Path) -> dict[str, bytes]:
    return {
        p.relative_to(store).as_posix(): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock" and not p.name.endswith(".tmp")
    }


def _without_dates(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if k not in DATES}


def _assert_same_store(store: Path, reference: Path) -> None:
    """Shard and class-mean files byte-identical; plan and manifest equal but for dates."""
    files, expected = _final_files(store), _final_files(reference)
    assert files.keys() == expected.keys()
    for name, content in expected.items():
        if not name.endswith(".json"):
            assert files[name] == content, f"{name} differs from the serial store"
    for name in ("manifest.json", "plan.json"):
        assert _without_dates(store / name) == _without_dates(reference / name)
    assert not list(store.rglob("*.tmp"))


def _index(model_path: Path, out: Path, **kwargs):
    """`index` as `emolens index --model model_path` calls it (same model name and file)."""
    model = zoo.load(model_path)
    options = {**OPTIONS, "model_name": str(model_path), "model_file": model_path, **kwargs}
    return index(model, f"synthetic:{COUNT}", METHODS, out=out, **options)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def serial_store(model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "store"
    _index(model_path, out)
    return out


@pytest.fixture
def crashing_ray(tmp_path, monkeypatch):
    """Env of the next local Ray: its actors run `ray_crash.install` (armed) at start."""
    folder = tmp_path / "crash"
    folder.mkdir()
    (folder / "armed").touch()
    monkeypatch.setenv(ray_crash.CRASH_DIR, str(folder))
    monkeypatch.setenv(SETUP, "tests.explain.store.ray_crash:install")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return folder


def test_cli_ray_engine_writes_the_serial_store(tmp_path, model_path, serial_store, monkeypatch):
    """`--engine ray --workers 2` starts a local Ray itself; the reader and the dashboard open
    the result."""
    out = tmp_path / "ray"
    argv = index_args(model_path, out, COUNT, "--method", ",".join(METHODS))
    argv[argv.index("--shard-size") + 1] = "32"
    argv[argv.index("--batch-size") + 1] = "16"
    assert run_cli([*argv, "--engine", "ray", "--workers", "2"]) == 0
    assert not ray.is_initialized()  # the local instance it started is shut down
    _assert_same_store(out, serial_store)

    store, reference = open_store(out), open_store(serial_store)
    assert len(store) == COUNT
    assert store.rows.equals(reference.rows)
    for method in METHODS:
        np.testing.assert_array_equal(store.maps(method), reference.maps(method))
        np.testing.assert_array_equal(store.class_means(method), reference.class_means(method))
    np.testing.assert_array_equal(store.embeddings(), reference.embeddings())

    # `emolens dashboard --model MODEL --store RAY_STORE`: the Dataset page shows it, no warning
    from tests.dashboard.conftest import messages, new_app, page

    for name, value in {
        "EMOLENS_DASHBOARD_MODEL": str(model_path),
        "EMOLENS_DASHBOARD_STORE": str(out),
        "EMOLENS_DASHBOARD_CACHE": str(tmp_path / "cache"),
        "EMOLENS_DATA": str(tmp_path / "no_data"),
    }.items():
        monkeypatch.setenv(name, value)
    at = page(new_app().run(), "views/dataset.py")
    assert not at.exception
    assert not messages(at)["warning"] and not messages(at)["error"]
    assert f"Store {out}: model {model_path}, data synthetic:{COUNT}." in [
        c.value for c in at.caption
    ]


def test_a_worker_killed_mid_shard_is_retried_into_the_same_store(
    tmp_path, model_path, serial_store, crashing_ray
):
    out = tmp_path / "ray"
    _index(model_path, out, engine="ray")
    assert (crashing_ray / "crashed").exists()  # one worker did die inside a map file
    _assert_same_store(out, serial_store)
    assert len(open_store(out)) == COUNT


def test_ray_finishes_a_store_the_serial_engine_left_unfinished(tmp_path, model_path, serial_store):
    """A killed serial run: shards 0-2 whole, shard 3 with arrays but no rows, a temp file."""
    out = tmp_path / "store"
    shutil.copytree(serial_store, out)
    (out / "manifest.json").unlink()
    shutil.rmtree(out / "means")
    for shard in range(3, 7):
        (out / "shards" / f"{shard:05d}.parquet").unlink()
    for path in (out / "shards").glob("0000[4-6].*.npy"):
        path.unlink()
    (out / "shards" / ".00004.grad_cam.npy.cut.tmp").write_bytes(b"\x93NUMPY")
    with pytest.raises(ValueError, match="unfinished"):
        open_store(out)

    written = []
    progress = lambda done, total: written.append((done, total))  # noqa: E731
    _index(model_path, out, engine="ray", progress=progress)
    assert written[0] == (96, COUNT) and written[-1] == (COUNT, COUNT)
    _assert_same_store(out, serial_store)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _non_loopback_ip() -> str | None:
    """This machine's address as other machines see it, or None when it has only loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def _cluster_env(home: Path) -> dict[str, str]:
    """Env of the head and the driver: a loopback-only Ray, token auth, a private HOME.

    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray keep 127.0.0.1 as the node address (Ray
    otherwise rewrites a loopback --node-ip-address and ray.init address to the machine's
    network IP, and its servers then listen on every interface). Token auth with the token in
    a private HOME: both sides read the same ~/.ray/auth_token, never the user's own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") and k != SETUP}
    return {
        **env,
        "HOME": str(home),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_USAGE_STATS_ENABLED": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


@pytest.fixture
def loopback_head(tmp_path):
    """A running one-node cluster on 127.0.0.1 (1 CPU): (address, env to join it with, its logs).

    `ray start --head --block` in its own session; teardown stops it (SIGTERM drains and stops
    every process it started), then kills whatever is left of that session.
    """
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
    env = _cluster_env(home)
    # Ray's unix sockets live under --temp-dir: keep it short (a socket path has <= 107 bytes)
    temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    port = _free_port()
    log = tmp_path / "head.log"
    argv = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--ray-client-server-port={_free_port()}",
        f"--dashboard-agent-listen-port={_free_port()}",
        "--num-cpus=1",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]
    with log.open("wb") as out:
        head = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + HEAD_START_S
        while "Ray runtime started" not in log.read_text(errors="replace"):
            assert head.poll() is None, f"ray start exited {head.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, (
                f"no head after {HEAD_START_S} s:\n{log.read_text()}"
            )
            time.sleep(1)
        assert "Local node IP: 127.0.0.1" in log.read_text()
        ip = _non_loopback_ip()
        if ip:  # the head listens on loopback only
            with pytest.raises(OSError):
                socket.create_connection((ip, port), timeout=5).close()
        yield f"127.0.0.1:{port}", env, temp_dir / "session_latest" / "logs"
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)  # anything of this head that outlived it
        except ProcessLookupError:
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_cli_joins_a_running_cluster_and_writes_the_serial_store(
    tmp_path, model_path, serial_store, loopback_head
):
    """`emolens index --engine ray --address 127.0.0.1:PORT` as a separate driver process."""
    address, env, logs = loopback_head
    out = tmp_path / "ray"
    argv = index_args(model_path, out, COUNT, "--method", ",".join(METHODS))
    argv[argv.index("--shard-size") + 1] = "32"
    argv[argv.index("--batch-size") + 1] = "16"
    # no --workers: the default is the joined cluster's CPUs (1 here), not this machine's
    argv += ["--engine", "ray", "--address", address]
    driver = subprocess.run(
        [sys.executable, "-m", "emolens", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert driver.returncode == 0, driver.stdout + driver.stderr
    workers = [p.read_text(errors="replace") for p in logs.glob("worker-*.out")]
    assert any("_ShardWriter" in text for text in workers)  # the head's worker did the shards
    _assert_same_store(out, serial_store)
    assert len(open_store(out)) == COUNT
