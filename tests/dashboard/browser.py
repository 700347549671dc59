"""Drive `emolens dashboard` in headless Chromium over the DevTools protocol.

Used by test_browser.py and to take the README's screenshots:

    python -m tests.dashboard.browser docs/     # one PNG per main page, synthetic data only
    python -m tests.dashboard.browser docs/ compare layers   # just these pages
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# (url path, text that appears once the page has finished, file name)
PAGES = (
    ("", "Report (PDF)", "explain_face.png"),
    ("layers", "Layer summary over the data", "layers.png"),
    ("attention", "Mean Spearman", "attention.png"),
    ("dataset", "Mean grad_cam map per class", "dataset.png"),
    ("embeddings", "Select points", "embeddings.png"),
    ("compare", "They disagree on", "compare.png"),
    ("trust", "A random map puts", "trust.png"),
)
HEATMAP_JS = """(() => {
  // Loaded <img> elements, and how many show saturated (colour-mapped) pixels.
  const images = [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth);
  let colourful = 0;
  for (const img of images) {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let saturated = 0;
    for (let k = 0; k < pixels.length; k += 4) {
      const r = pixels[k], g = pixels[k + 1], b = pixels[k + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 80) saturated++;
    }
    if (saturated > 0.05 * canvas.width * canvas.height) colourful++;
  }
  return {loaded: images.length, colourful: colourful};
})()"""


POINT_JS = """(() => {
  // Page coordinates and image id of one point of a plotly chart (st.plotly_chart key=...).
  const chart = document.querySelector(`.st-key-${%s} .js-plotly-plot`);
  if (!chart) return null;
  const box = chart.getBoundingClientRect(), trace = chart._fullData[%d], k = %d;
  const xaxis = chart._fullLayout.xaxis, yaxis = chart._fullLayout.yaxis;
  return {
    x: box.left + xaxis._offset + xaxis.l2p(trace.x[k]),
    y: box.top + yaxis._offset + yaxis.l2p(trace.y[k]),
    id: trace.customdata[k][0],
  };
})()"""
FACE_TIP_JS = """(() => {
  // The Embeddings page's face tip: shown or not, and which sprite tile it shows.
  const tips = document.querySelectorAll('[data-testid="emolensFaceHover"]');
  if (!tips.length) return null;
  const tip = tips[0];
  return {count: tips.length, display: getComputedStyle(tip).display,
          position: tip.style.backgroundPosition, width: tip.offsetWidth,
          sprite: tip.style.backgroundImage.startsWith('url("data:image/jpeg;base64,')};
})()"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_http(url: str, timeout: float, process: subprocess.Popen) -> bytes:
    """GET `url` until it answers (the process must stay alive)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (localhost)
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.5)


@contextlib.contextmanager
def dashboard(env: dict[str, str], timeout: float = 180) -> Iterator[str]:
    """`emolens dashboard` on 127.0.0.1 and a free port; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "emolens", "dashboard", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Tab:
    """One Chromium tab driven over its DevTools websocket."""

    def __init__(self, socket):
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params) -> dict:
        """Call a DevTools method and return its result (events in between are skipped)."""
        call = next(self._ids)
        self._socket.send(json.dumps({"id": call, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=120))
            if message.get("id") == call:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for_text(self, text: str, timeout: float = 240, settle: float = 3.0) -> None:
        """Wait until the page shows `text` and Streamlit has stopped running the script."""
        done = (
            f"document.body.innerText.includes({json.dumps(text)}) && "
            "!document.querySelector('[data-testid=\"stStatusWidget\"]') && "
            '!document.querySelector(\'[data-stale="true"], [data-testid="stSkeleton"]\') && '
            "[...document.querySelectorAll('[data-testid=\"stImage\"]')]"
            ".every(box => [...box.querySelectorAll('img')]"
            ".some(image => image.complete && image.naturalWidth)) && "
            "[...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
            ".every(chart => chart.querySelector('.main-svg'))"
        )
        deadline = time.monotonic() + timeout
        while not self.evaluate(done):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page did not show {text!r} within {timeout:.0f} s")
            time.sleep(0.5)
        time.sleep(settle)  # images load and charts finish their transitions

    def hover_point(self, chart_key: str, trace: int = 0, index: int = 0) -> int:
        """Move the mouse onto point `index` of `trace` of plotly chart `chart_key`; its id."""
        point = self.evaluate(POINT_JS % (json.dumps(chart_key), trace, index))
        if point is None:
            raise ValueError(f"No plotly chart with key {chart_key!r} on the page.")
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=point["x"], y=point["y"])
        time.sleep(1.0)  # plotly's hover and the face tip
        return point["id"]

    def screenshot(self, path: Path) -> Path:
        """Save the viewport as a PNG."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1100) -> Iterator[Tab]:
    """Headless Chromium with a fresh profile; yields one tab of `width` x `height`."""
    from websockets.sync.client import connect

    if CHROMIUM is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    port = free_port()
    with tempfile.TemporaryDirectory(
        prefix="emolens-chromium-", ignore_cleanup_errors=True
    ) as profile:
        command = [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            _wait_http(f"http://127.0.0.1:{port}/json/version", 60, process)
            targets = json.loads(_wait_http(f"http://127.0.0.1:{port}/json/list", 30, process))
            page = next(t for t in targets if t.get("type") == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=2**28, open_timeout=30) as socket:
                tab = Tab(socket)
                tab.send("Page.enable")
                tab.send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                yield tab
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop Chromium and its helper processes (its own process group, started by us)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def synthetic_env(cache: Path, data: Path) -> dict[str, str]:
    """The environment for a dashboard on synthetic data only (no FER2013 faces on screen)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMOLENS_DASHBOARD_")}
    env.update(EMOLENS_DASHBOARD_CACHE=str(cache), EMOLENS_DATA=str(data))
    return env


def take_screenshots(out: Path, cache: Path, only: tuple[str, ...] = ()) -> list[Path]:
    """One screenshot per main page into `out` (width 1400, shrunk to 1000 px wide PNGs).

    `only`: file names (without .png) to take; default every page of `PAGES`.
    """
    import cv2

    saved = []
    with tempfile.TemporaryDirectory() as empty:
        with dashboard(synthetic_env(cache, Path(empty))) as url, chromium() as tab:
            tab.send("Page.navigate", url=url)  # the first session registers st.navigation
            tab.wait_for_text(PAGES[0][1], timeout=600)
            for path, text, name in PAGES:
                if only and name.removesuffix(".png") not in only:
                    continue
                tab.send("Page.navigate", url=f"{url}/{path}")
                tab.wait_for_text(text, timeout=600, settle=10.0)
                if name == "embeddings.png":  # show the face on hover
                    tab.hover_point("embedding", trace=0, index=5)
                file = tab.screenshot(out / name)
                image = cv2.imread(str(file))
                small = cv2.resize(
                    image,
                    (1000, round(image.shape[0] * 1000 / image.shape[1])),
                    interpolation=cv2.INTER_AREA,
                )
                cv2.imwrite(str(file), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
                saved.append(file)
    return saved


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    cache_dir = Path(os.environ.get("EMOLENS_DASHBOARD_CACHE", Path.home() / ".cache/emolens/docs"))
    for written in take_screenshots(target, cache_dir, tuple(sys.argv[2:])):
        print(written)
