"""Keep TensorFlow's start-up logs off the terminal (the CLI calls `silence_tensorflow`).

TensorFlow writes C++ log lines to file descriptor 2 while its libraries load and when it first
looks for a GPU. Some of them (absl's "before absl::InitializeLog()" notice, the CUDA-stub lines)
ignore `TF_CPP_MIN_LOG_LEVEL`, so the first `import tensorflow` runs with descriptor 2 pointed at a
temporary file, probes the devices, and then replays every line that is not such a log line:
Python warnings and anything else the user needs still reach stderr.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

# absl/glog C++ line: severity letter, MMDD, time, thread, file:line]
_LOG_LINE = re.compile(rb"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] ")
# E lines that only say this machine has no usable GPU (TensorFlow falls back to the CPU).
_NO_GPU = re.compile(rb"cuInit|CUDA|cuda|cuDNN|cuFFT|cuBLAS", re.IGNORECASE)
_NOISE = (
    b"WARNING: All log messages before absl::InitializeLog() is called",
    b"To enable the following instructions:",
)


def is_noise(line: bytes) -> bool:
    """Whether one stderr line is TensorFlow start-up chatter rather than a message to keep."""
    if line.startswith(_NOISE):
        return True
    if _LOG_LINE.match(line):
        return not line.startswith(b"E") or bool(_NO_GPU.search(line))
    return False


def silence_tensorflow() -> None:
    """Quiet TensorFlow, absl and Keras logs for the rest of the process; import nothing heavy.

    Sets `TF_CPP_MIN_LOG_LEVEL=2` (unless the user set it), raises the `tensorflow` and `absl`
    Python loggers to ERROR, and makes the first `import tensorflow` filter its C++ output.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    installed = any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path)
    if "tensorflow" not in sys.modules and not installed:
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once and wraps its loader in `_QuietLoader`."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader with descriptor 2 captured, then replays the lines worth keeping."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        with _filtered_stderr():
            self.loader.exec_module(module)
            module.__loader__ = module.__spec__.loader = self.loader
            try:
                module.config.list_physical_devices()  # the CUDA probe logs here, not at import
            except Exception:  # an optional probe: the first real op reports the same error
                pass


@contextlib.contextmanager
def _filtered_stderr():
    """Descriptor 2 goes to a temporary file; on exit it is restored and non-noise replayed."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        capture = tempfile.TemporaryFile()
    except BaseException:
        os.close(saved)
        raise
    with capture:
        try:
            os.dup2(capture.fileno(), 2)
            yield
        finally:
            try:
                with contextlib.suppress(OSError):  # a full disk under the temp file
                    sys.stderr.flush()
            finally:
                os.dup2(saved, 2)  # always: else every later error line would vanish
                os.close(saved)
            capture.seek(0)
            kept = b"".join(line for line in capture if not is_noise(line))
            if kept:
                sys.stderr.write(kept.decode(errors="replace"))
                sys.stderr.flush()
