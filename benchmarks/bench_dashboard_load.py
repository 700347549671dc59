"""Dashboard under load: concurrent sessions explaining faces, on loopback only, bounded.

    python benchmarks/bench_dashboard_load.py [--sessions 20] [--seconds 60]

What it exercises: `emolens dashboard` is started on 127.0.0.1 at a free port; `--sessions`
real Streamlit sessions connect over websockets (/_stcore/stream, the browser's protocol: BackMsg
rerun requests with the "Sample" selectbox's widget state, ForwardMsg replies read until
script_finished) and cycle through the sample faces, checking each run shows an explanation
and no exception; /_stcore/health is polled over HTTP throughout. The default model and
methods are used; after the warm-up (one session) explanations come from the page's bounded
caches, so the timed loop is page reruns under 20-way contention, not fresh explanations.
No browser renders anything. Reports errors, p50/p95 latency per explain (send to
script_finished), and the server's RSS after warm-up and every 5 s (flat = bounded caches).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of `pid` (this process by default) in MB, from /proc."""
    with open(f"/proc/{pid or 'self'}/status") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def _rerun(widget_id: str | None, option: str | None) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    if widget_id is not None:
        widget = msg.rerun_script.widget_states.widgets.add()
        widget.id = widget_id
        widget.string_value = option
    return msg.SerializeToString()


async def session(port, stop, latencies: list, errors: list, index: int, shown: set) -> None:
    """One websocket session: rerun the page with the next sample face until `stop`."""
    import websockets
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    widget_id, options, turn = None, [], index
    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        while not stop.is_set():
            option = options[turn % len(options)] if options else None
            turn += 1
            started = time.perf_counter()
            await ws.send(_rerun(widget_id, option))
            failed, explained = None, False
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=600))
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    which = element.WhichOneof("type")
                    if which == "exception":
                        failed = element.exception.message
                    elif which == "selectbox" and element.selectbox.id.endswith("-sample"):
                        widget_id, options = element.selectbox.id, list(element.selectbox.options)
                    elif which == "markdown" and "Explaining class" in element.markdown.body:
                        explained = True
                        shown.add(option or "default")
                elif kind == "script_finished":
                    break
            if failed:
                errors.append(f"session {index}: {failed}")
            elif not explained:
                errors.append(f"session {index}: no explanation shown for {option}")
            else:
                latencies.append(time.perf_counter() - started)


async def load(port: int, sessions: int, seconds: float, timeline: list, server_pid: int):
    stop = asyncio.Event()
    latencies: list[float] = []
    errors: list[str] = []
    shown: set = set()
    tasks = [
        asyncio.create_task(session(port, stop, latencies, errors, i, shown))
        for i in range(sessions)
    ]
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        await asyncio.sleep(5)
        timeline.append((time.perf_counter() - started, rss_mb(server_pid)))
    stop.set()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            errors.append(f"session ended: {type(result).__name__}: {result}")
    return latencies, errors, shown, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    from emolens.dashboard import loaders

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "emolens", "dashboard", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    health = {"ok": 0, "failed": 0, "ms": []}
    stop = threading.Event()

    def poll_health() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=5) as reply:
                    ok = reply.status == 200
            except OSError:
                ok = False
            health["ok" if ok else "failed"] += 1
            if ok:
                health["ms"].append(1e3 * (time.perf_counter() - started))
            time.sleep(0.5)

    try:
        deadline = time.monotonic() + 180  # the server imports TensorFlow first
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        # Warm-up: one session shows every sample once (loads the model, fills the caches).
        timeline: list = []
        names = loaders.sample_names()
        _, warm_errors, _, warm = asyncio.run(load(port, 1, 3.0 * len(names), [], server.pid))
        server_warm = rss_mb(server.pid)
        checker = threading.Thread(target=poll_health, daemon=True)
        checker.start()
        latencies, errors, shown, elapsed = asyncio.run(
            load(port, args.sessions, args.seconds, timeline, server.pid)
        )
        errors = warm_errors + errors
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    print(f"{args.sessions} sessions x {args.seconds:.0f} s ({elapsed:.0f} s with the last runs)")
    print(f"warm-up {warm:.0f} s; explains {len(latencies)}, errors {len(errors)}")
    print(f"faces shown: {len(shown - {'default'})} of {len(names)}")
    for error in errors[:5]:
        print("  ", error)
    if latencies:
        p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        print(f"latency per explain (page rerun): p50 {1e3 * p50:.0f} ms, p95 {1e3 * p95:.0f} ms")
        print(f"throughput {len(latencies) / elapsed:.1f} explains/s")
    hm = health["ms"]
    print(
        f"health GETs: {health['ok']} ok, {health['failed']} failed"
        + (f", median {statistics.median(hm):.1f} ms" if hm else "")
    )
    print(f"server RSS after warm-up {server_warm:.0f} MB")
    print("t (s)   server RSS (MB)")
    for t, srv in timeline:
        print(f"{t:5.0f}   {srv:15.0f}")


if __name__ == "__main__":
    main()
