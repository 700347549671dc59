"""Ray actor setup hook of test_ray, named in EMOLENS_RAY_WORKER_SETUP as
"tests.explain.store.ray_crash:install": the first actor to write a map array while
$EMOLENS_TEST_RAY_CRASH_DIR/armed exists dies (os._exit) half-way through that file, after its
shard's embeddings are written."""

import os
from pathlib import Path

CRASH_DIR = "EMOLENS_TEST_RAY_CRASH_DIR"


def install() -> None:
    folder = os.environ.get(CRASH_DIR)
    if not folder:
        return
    from emolens.explain._atomic import atomic_file
    from emolens.explain.store import _shard

    save_array = _shard._save_array

    def patched(path, array):
        if Path(folder, "armed").exists() and "embeddings" not in path.name:
            try:
                os.close(os.open(Path(folder, "crashed"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return save_array(path, array)
            with atomic_file(path, "wb") as file:
                file.write(b"\x93NUMPY" + bytes(64))
                file.flush()
                os._exit(1)
        return save_array(path, array)

    _shard._save_array = patched
