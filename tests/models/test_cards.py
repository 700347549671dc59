"""Model cards: JSON + Markdown written whole, read back unchanged; bundled cards are consistent."""

import json
from pathlib import Path

import pytest

from emolens.explain.data.labels import class_names
from emolens.models import zoo
from emolens.models.cards import atomic_write_text, card_markdown, read_card, write_card

BUNDLED_CARDS = sorted(zoo.CARDS_DIR.glob("*.json"))
MAX_BUNDLED_BYTES = 10 * 1024 * 1024


def _metrics(classes, matrix):
    matrix = [list(row) for row in matrix]
    total = sum(map(sum, matrix))
    correct = sum(matrix[i][i] for i in range(len(classes)))
    return {
        "n": total,
        "accuracy": correct / total,
        "macro_f1": 0.5,
        "per_class_recall": {c: matrix[i][i] / sum(matrix[i]) for i, c in enumerate(classes)},
        "confusion_matrix": matrix,
        "tta_flip": True,
    }


def _card():
    classes = ["angry", "happy", "sad"]
    return {
        "name": "tiny_emo3",
        "arch": "vgg",
        "class_set": "emo3",
        "classes": classes,
        "input_shape": [48, 48, 1],
        "data": "synthetic",
        "split": "Training minus a 10% stratified validation split",
        "test_split": "publictest",
        "training": "2 epochs",
        "validation": _metrics(classes, [[3, 1, 0], [0, 4, 0], [1, 0, 2]]),
        "test": None,
        "params": 4347,
        "size_bytes": 85_820,
        "training_time_s": 90.0,
        "device": "tensorflow CPU",
        "command": "emolens train --arch vgg --classes emo3 --epochs 2",
        "date": "2026-01-02",
        "notes": "A note.",
    }


def test_write_card_round_trips_and_renders_markdown(tmp_path):
    card = _card()
    json_path, md_path = write_card(tmp_path / "tiny_emo3", card)
    assert (json_path, md_path) == (tmp_path / "tiny_emo3.json", tmp_path / "tiny_emo3.md")
    assert read_card(json_path) == card
    markdown = md_path.read_text()
    assert markdown == card_markdown(card)
    assert markdown.startswith("# tiny_emo3\n")
    assert "4,347 parameters, 0.09 MB" in markdown
    assert "classes (emo3): angry, happy, sad" in markdown
    assert "training time: 1.5 min on tensorflow CPU" in markdown
    assert "emolens train --arch vgg --classes emo3 --epochs 2" in markdown
    assert "- images: 11 (test-time flip averaging)" in markdown
    assert "- accuracy: **0.8182**" in markdown  # 9 of 11 on the diagonal
    assert "CPU latency per image: not measured" in markdown
    assert "| happy | 1.000 | 0 | 4 | 0 |" in markdown
    assert "### Test (publictest)\n\nnot measured" in markdown
    assert "## Notes\n\nA note." in markdown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny_emo3.json", "tiny_emo3.md"]


def test_measured_latency_is_shown():
    markdown = card_markdown({**_card(), "latency_ms_cpu": 12.34})
    assert "CPU latency per image: 12.3 ms" in markdown


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "card.json"
    atomic_write_text(path, "old")

    class Exploding:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        atomic_write_text(path, Exploding())
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]  # no temp file left


def test_read_card_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json' not found"):
        read_card(tmp_path / "nope.json")


def test_bundled_cards_are_present_or_the_skip_says_why():
    if not BUNDLED_CARDS:
        pytest.skip(f"no bundled model cards in {zoo.CARDS_DIR} yet")
    assert {p.stem for p in BUNDLED_CARDS} <= set(zoo.bundled())


@pytest.mark.parametrize("card_path", BUNDLED_CARDS, ids=[p.stem for p in BUNDLED_CARDS])
def test_bundled_card_matches_its_class_set_and_weights(card_path: Path):
    card = json.loads(card_path.read_text())
    assert tuple(card["classes"]) == class_names(card["class_set"]), (
        f"{card_path.name}: classes {card['classes']} are not in the order of "
        f"explain.data.labels {card['class_set']!r}"
    )
    weights = zoo.WEIGHTS_DIR / f"{card_path.stem}.keras"
    assert weights.is_file(), f"{card_path.name} has no weights file {weights}"
    size = weights.stat().st_size
    assert size < MAX_BUNDLED_BYTES, f"{weights.name} is {size / 1e6:.1f} MB (limit 10 MB)"
    assert card["size_bytes"] == size, f"{card_path.name} describes a different file"
    for key in ("validation", "params", "command", "date"):
        assert card.get(key), f"{card_path.name} lacks {key!r}"
    assert card_path.with_suffix(".md").is_file()
    assert zoo.load_card(card_path.stem) == card


def test_readme_model_table_is_generated_from_the_bundled_cards():
    from emolens.models.cards import model_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start, end = "<!-- models-table -->\n", "\n<!-- /models-table -->"
    table = readme[readme.index(start) + len(start) : readme.index(end)]
    cards = [zoo.load_card(name) for name in zoo.bundled()]
    assert table == model_table(cards, default=zoo.default_model()), (
        "README's bundled-model table differs from the cards: paste the table that "
        "`emolens models` prints between the models-table markers"
    )


def test_readme_history_table_is_generated_from_the_cards_of_dropped_models():
    import json

    from emolens.models.cards import model_table

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    start, end = "<!-- history-table -->\n", "\n<!-- /history-table -->"
    table = readme[readme.index(start) + len(start) : readme.index(end)]
    paths = sorted((root / "docs" / "model_history").glob("*.json"))
    assert paths, "docs/model_history/ holds no cards"
    cards = [json.loads(p.read_text()) for p in paths]
    assert table == model_table(cards), (
        "README's history table differs from docs/model_history/: regenerate it with "
        "emolens.models.cards.model_table over those cards"
    )
    for card in cards:  # history is what no longer ships
        assert card["name"] not in zoo.bundled(), f"{card['name']} is bundled and in history"
        assert (root / "docs" / "model_history" / f"{card['name']}.md").is_file()
