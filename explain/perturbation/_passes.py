"""Forward passes of a fixed shape, so perturbation maps do not depend on `batch_size`.

TensorFlow's CPU matmul rounds a row differently depending on how many rows its batch has
(a few ulps of a logit), and perturbation maps divide score differences by the largest one,
which magnifies that. So every forward pass here holds exactly PASS_ROWS rows: rows are
numbered once for the whole call, pass j always holds rows [j * PASS_ROWS, (j + 1) * PASS_ROWS)
(the last padded by repeating the last row), and `batch_size` only sets how many such passes
one compiled call runs (`tf.map_fn`, one pass after another). The maps are then bit-identical
for every batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

PASS_ROWS = 16
"""Rows (perturbed images) per forward pass, whatever the batch size."""


def row_calls(num_rows: int, batch_size: int) -> Iterator[tuple[np.ndarray, int]]:
    """(row ids padded to whole passes, real row count) per compiled call.

    A call holds batch_size rows rounded up to whole passes (at least one pass).
    """
    per_call = PASS_ROWS * max(1, -(-batch_size // PASS_ROWS))
    for start in range(0, num_rows, per_call):
        rows = np.arange(start, min(start + per_call, num_rows), dtype=np.int32)
        padded = -(-len(rows) // PASS_ROWS) * PASS_ROWS
        yield np.pad(rows, (0, padded - len(rows)), mode="edge"), len(rows)


def in_passes(one_pass: Callable[..., tf.Tensor], *rows: tf.Tensor) -> tf.Tensor:
    """one_pass(*rows[j]) for every pass j of PASS_ROWS rows, concatenated: (R, ...).

    Each tensor in `rows` is (R, ...) with R a multiple of PASS_ROWS; call inside tf.function.
    """
    grouped = tuple(tf.reshape(r, tf.concat([[-1, PASS_ROWS], tf.shape(r)[1:]], 0)) for r in rows)
    outputs = tf.map_fn(
        lambda elems: one_pass(*elems),
        grouped,
        fn_output_signature=tf.float32,
        parallel_iterations=1,  # one pass's activations in memory at a time
    )
    return tf.reshape(outputs, tf.concat([[-1], tf.shape(outputs)[2:]], 0))
