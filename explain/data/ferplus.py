"""FERPlus crowd votes (Barsoum et al. 2016) as soft labels over a class set."""

from __future__ import annotations

import numpy as np

from emolens.explain.data.labels import FER7

# Column order of `ferplus_votes` (N, 10) in the FER2013 npz files.
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
_FERPLUS_NAME = {"angry": "anger", "happy": "happiness", "sad": "sadness"}  # others agree
_COLUMN_OF = {c: FERPLUS_COLUMNS.index(_FERPLUS_NAME.get(c, c)) for c in FER7}  # class -> column


def ferplus_distribution(
    votes: np.ndarray, classes: tuple[str, ...] | list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each image's FERPlus votes that went to each of `classes`.

    Votes for classes outside `classes` (and contempt, unknown, not-a-face) are dropped
    before normalising, so each valid row sums to 1.

    Args:
        votes: int (N, 10) vote counts in `FERPLUS_COLUMNS` order; -1 where unknown.
        classes: FER2013 class names, e.g. ("angry", "happy", "sad").

    Returns:
        (distribution float32 (N, K), valid bool (N,)); rows without a single vote on
        `classes` are all zeros and not valid.

    Raises:
        ValueError: `votes` is not (N, 10), or a class has no FERPlus column.
    """
    votes = np.asarray(votes)
    if votes.ndim != 2 or votes.shape[1] != len(FERPLUS_COLUMNS):
        raise ValueError(
            f"FERPlus votes must be (N, {len(FERPLUS_COLUMNS)}) in the order "
            f"{', '.join(FERPLUS_COLUMNS)}; got shape {votes.shape}."
        )
    unknown = [c for c in classes if c.lower() not in _COLUMN_OF]
    if unknown:
        raise ValueError(
            f"No FERPlus column for class(es) {', '.join(unknown)}; "
            f"FERPlus covers {', '.join(FER7)}."
        )
    picked = votes[:, [_COLUMN_OF[c.lower()] for c in classes]].astype(np.float32)
    picked = np.maximum(picked, 0.0)
    totals = picked.sum(axis=1)
    valid = totals > 0
    distribution = np.zeros_like(picked)
    distribution[valid] = picked[valid] / totals[valid, None]
    return distribution, valid
