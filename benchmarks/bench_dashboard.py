"""Dashboard latency: one uploaded face explained, a page update, store pages over 3,589 faces.

    python benchmarks/bench_dashboard.py [--repeats 10] [--store-dir ~/.cache/emolens/bench]
                                         [--face-only]

Rows (median of repeats after warm-up; targets from issue 12):
  plain predict           baseline: the model's forward pass on one 48x48 face
  explain one face        decode JPEG + detect + predict + Grad-CAM + overlay     < 150 ms
    ..., previous detector  the same with detect_faces as before issue 12's speed-up (longest
                          side 1024 px, scaleFactor 1.1): the baseline for the detection rows
  detect faces            detect_faces alone, previous settings vs now, on the 600x512 photo
                          and on it enlarged to a 13.9 MP phone-size photo
  page update             AppTest rerun of "Explain a face", explanation not cached < 500 ms
  dataset page / embeddings page over a 3,589-image store (cold caches, then warm) < 2 s
The store is FER2013 PublicTest indexed with vgg_fer7_soup_ft when the data is found, else 3,589
synthetic faces; it is built once into --store-dir.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
STORE_MODEL = "vgg_fer7_soup_ft"


def median_ms(function, repeats: int) -> float:
    function()  # warm-up (traces the tf.functions, fills caches)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(1e3 * (time.perf_counter() - started))
    return statistics.median(times)


def photo_bytes() -> bytes:
    import matplotlib.cbook

    return matplotlib.cbook.get_sample_data("grace_hopper.jpg").read()


def previous_detect_faces(image, *, min_size=None) -> list[tuple[int, int, int, int]]:
    """detect_faces before issue 12's speed-up: longest side shrunk to 1024, scaleFactor 1.1."""
    import cv2
    import numpy as np

    from emolens.explain.faces import _as_image, _cascade, _to_gray_uint8

    gray = _to_gray_uint8(_as_image(image))
    height, width = gray.shape
    scale = min(1.0, 1024 / max(height, width))
    if scale < 1.0:
        small = (round(width * scale), round(height * scale))
        gray = cv2.resize(gray, small, interpolation=cv2.INTER_AREA)
    side = max(24, round((min_size or min(height, width) / 12) * scale))
    found = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    boxes = [tuple(round(v / scale) for v in box) for box in np.asarray(found).reshape(-1, 4)]
    return sorted(boxes, key=lambda box: -box[2] * box[3])


def bench_detect(repeats: int) -> list[tuple[str, float, str]]:
    import cv2

    from emolens.explain.faces import decode_image, detect_faces

    photo = decode_image(photo_bytes())  # 600x512
    phone = cv2.resize(photo, (3440, 4032), interpolation=cv2.INTER_CUBIC)  # 13.9 MP
    rows = []
    for name, image in (("600x512", photo), ("4032x3440", phone)):
        before = median_ms(lambda image=image: previous_detect_faces(image), repeats)
        after = median_ms(lambda image=image: detect_faces(image), repeats)
        faces = f"{len(previous_detect_faces(image))} -> {len(detect_faces(image))} face(s)"
        rows.append((f"detect faces {name}, previous", before, "baseline: 1024 px, scale 1.1"))
        rows.append((f"detect faces {name}", after, f"{before / after:.1f}x faster, {faces}"))
    return rows


def bench_face(repeats: int) -> list[tuple[str, float, str]]:
    from unittest import mock

    from emolens import models
    from emolens.explain import faces
    from emolens.explain.faces import decode_image
    from emolens.explain.report import explain_photo, overlay_rgb, predict_probs

    model = models.load()
    data = photo_bytes()
    result = explain_photo(model, data, ["grad_cam"])
    face = result.faces[0].image[None]
    predict = median_ms(lambda: predict_probs(model, face), repeats)

    def explain_one() -> None:
        found = explain_photo(model, decode_image(data), ["grad_cam"])
        overlay_rgb(found.faces[0], "grad_cam")

    stages = {}

    def staged() -> None:
        found = explain_photo(model, data, ["grad_cam"])
        for stage, ms in found.timing_ms.items():
            stages.setdefault(stage, []).append(ms)

    crop = result.faces[0].crop  # the same face, already cropped: no detection

    def explain_crop() -> None:
        found = explain_photo(model, crop, ["grad_cam"], detect=False)
        overlay_rgb(found.faces[0], "grad_cam")

    total = median_ms(explain_one, repeats)
    with mock.patch.object(faces, "detect_faces", previous_detect_faces):
        previous = median_ms(explain_one, repeats)
    cropped = median_ms(explain_crop, repeats)
    median_ms(staged, repeats)
    detail = ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in stages.items())
    return [
        ("plain predict (baseline)", predict, f"{models.default_model()}, 1 face"),
        ("explain one face", total, f"Grace Hopper JPEG; ms: {detail}"),
        ("explain one face, prev. detector", previous, "the same, detect_faces before issue 12"),
        ("explain one face crop", cropped, "the same face, detection off (predict+CAM+overlay)"),
    ]


def bench_page(repeats: int) -> list[tuple[str, float, str]]:
    from streamlit.testing.v1 import AppTest

    from emolens.dashboard import loaders

    at = AppTest.from_file(str(APP), default_timeout=600).run()
    methods = next(m for m in at.multiselect if m.label == "Methods")
    methods.set_value(["grad_cam"])
    at.run()

    def fresh() -> None:
        loaders.explain_face.clear()
        at.run()

    cold = median_ms(fresh, repeats)
    warm = median_ms(at.run, repeats)
    return [
        ("page update, new explanation", cold, "AppTest rerun, grad_cam, explain_face uncached"),
        ("page update, cached", warm, "AppTest rerun, same face"),
    ]


def ensure_store(folder: Path) -> Path:
    from emolens import models
    from emolens.dashboard.loaders import data_source
    from emolens.explain.store import index

    source, split, _ = data_source()
    if source == "synthetic":
        source = "synthetic:3589"
    path = folder / f"{STORE_MODEL}-{source.strip('/').replace('/', '_')}-{split}"
    if not (path / "manifest.json").is_file():
        model = models.load(STORE_MODEL)
        index(
            model,
            source,
            ["grad_cam"],
            out=path,
            split=split,
            classes="fer7" if source != "synthetic:3589" else "emo3",
            model_name=STORE_MODEL,
        )
    return path


def bench_store_pages(store: Path, repeats: int) -> list[tuple[str, float, str]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from emolens.explain.store import open_store

    os.environ["EMOLENS_DASHBOARD_STORE"] = str(store)
    count = len(open_store(store))
    rows = []
    pages = (("views/dataset.py", "dataset_model"), ("views/embeddings.py", "embeddings_model"))
    for page, key in pages:
        at = AppTest.from_file(str(APP), default_timeout=600).run()
        at.switch_page(page).run()
        at.selectbox(key=key).select(STORE_MODEL)
        at.run()
        if at.exception:
            raise RuntimeError(f"{page} failed: {at.exception[0].value}")

        def cold(at=at) -> None:
            st.cache_data.clear()  # models stay loaded (cache_resource); store tables recomputed
            at.run()

        name = page.split("/")[1].removesuffix(".py")
        rows.append((f"{name} page, cold", median_ms(cold, repeats), f"{count:,}-image store"))
        rows.append((f"{name} page, warm", median_ms(at.run, repeats), "AppTest rerun"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--store-dir", type=Path, default=Path.home() / ".cache" / "emolens" / "bench"
    )
    parser.add_argument("--face-only", action="store_true", help="skip the page and store rows")
    args = parser.parse_args()
    from emolens._quiet import silence_tensorflow

    silence_tensorflow()
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as cache:
        os.environ["EMOLENS_DASHBOARD_CACHE"] = cache
        rows = bench_face(args.repeats) + bench_detect(args.repeats)
        if not args.face_only:
            rows += bench_page(args.repeats)
            rows += bench_store_pages(ensure_store(args.store_dir), max(3, args.repeats // 2))
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | CPU cores {os.cpu_count()} | "
        f"median of {args.repeats} after warm-up"
    )
    print(f"{'what':32} {'ms':>8}  {'vs predict':>10}  notes")
    baseline = rows[0][1]
    for what, ms, notes in rows:
        print(f"{what:32} {ms:8.1f}  {ms / baseline:9.1f}x  {notes}")


if __name__ == "__main__":
    main()
