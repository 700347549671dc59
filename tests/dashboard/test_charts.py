"""Images the pages build without Streamlit: the sprite of hover faces and its JPEG data URI."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from emolens.dashboard.charts import face_sprite, jpeg_data_uri


def test_face_sprite_tiles_faces_row_by_row_and_pads_with_gray():
    images = np.zeros((5, 4, 4, 1), np.float32)
    for k in range(5):
        images[k] = k / 10  # face k is flat, value k/10
    sprite = face_sprite(images, side=4, columns=2)
    assert sprite.shape == (3 * 4, 2 * 4, 1) and sprite.dtype == np.uint8
    tiles = sprite.reshape(3, 4, 2, 4).transpose(0, 2, 1, 3).reshape(6, 4, 4)
    expected = [round(k / 10 * 255) for k in range(5)] + [128]  # the last tile is padding
    assert [int(t.min()) for t in tiles] == expected
    assert [int(t.max()) for t in tiles] == expected


def test_face_sprite_resizes_rgb_faces_to_the_tile_side():
    images = np.zeros((3, 8, 8, 3), np.float32)
    images[1, ..., 0] = 1.0  # a red face
    sprite = face_sprite(images, side=4, columns=4)
    assert sprite.shape == (4, 16, 3)
    np.testing.assert_array_equal(sprite[:, 4:8], np.broadcast_to([255, 0, 0], (4, 4, 3)))
    np.testing.assert_array_equal(sprite[:, 12:16], 128)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_data_uri_decodes_to_the_same_picture(channels):
    rng = np.random.default_rng(0)
    pixels = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None], 32, axis=0)[..., None]
    pixels = np.repeat(pixels, channels, axis=-1)
    if channels == 3:
        pixels[..., 2] = 40  # RGB order must survive (OpenCV writes BGR)
    uri = jpeg_data_uri(pixels + rng.integers(0, 2, pixels.shape, dtype=np.uint8), quality=95)
    header, _, encoded = uri.partition(",")
    assert header == "data:image/jpeg;base64"
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_UNCHANGED)
    if channels == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    assert decoded.shape[:2] == (32, 64)
    assert np.abs(decoded.reshape(pixels.shape).astype(int) - pixels).mean() < 3


def test_embedding_chart_one_trace_per_value_in_order_of_appearance_with_ids():
    import pandas as pd

    from emolens.dashboard.charts import embedding_chart

    rows = pd.DataFrame(
        {
            "id": [10, 11, 12, 13],
            "true_class": ["sad", "angry", "sad", "happy"],
            "predicted_class": ["sad", "sad", "happy", "happy"],
            "confidence": [0.9, 0.6, 0.5, 0.8],
            "correct": [True, False, False, True],
        }
    )
    points = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    figure = embedding_chart(points, rows, "true_class")
    assert [trace.name for trace in figure.data] == ["sad", "angry", "happy"]
    sad = figure.data[0]
    np.testing.assert_array_equal(sad.x, [0.0, 2.0])
    assert [row[0] for row in sad.customdata] == [10, 12]  # the id first: hover and selection
    by_correct = embedding_chart(points, rows, "correct")
    assert [trace.name for trace in by_correct.data] == ["right", "mistake"]
