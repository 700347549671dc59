"""Model cards: a JSON record and a Markdown page beside each trained model, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

# The one temp-file-then-rename helper lives in explain (explain never imports models);
# atomic_file stays importable from here for models.train.
from emolens.explain._atomic import atomic_file, atomic_write_text  # noqa: F401


def _metrics_rows(title: str, metrics: dict | None, classes: list[str]) -> list[str]:
    if not metrics:
        return [f"### {title}", "", "not measured", ""]
    tta = " (test-time flip averaging)" if metrics.get("tta_flip") else ""
    rows = [
        f"### {title}",
        "",
        f"- images: {metrics['n']}{tta}",
        f"- accuracy: **{metrics['accuracy']:.4f}**",
        f"- macro-F1: {metrics['macro_f1']:.4f}",
        "",
        "| class | recall | " + " | ".join(f"pred {c}" for c in classes) + " |",
        "|---|---|" + "---|" * len(classes),
    ]
    for c, row in zip(classes, metrics["confusion_matrix"], strict=True):
        recall = metrics["per_class_recall"][c]
        rows.append(f"| {c} | {recall:.3f} | " + " | ".join(str(v) for v in row) + " |")
    return [*rows, ""]


def _latency(ms: float | None) -> str:
    return "not measured" if ms is None else f"{ms:.1f} ms (batch 1, compiled call)"


def card_markdown(card: dict) -> str:
    """Render a card dict as Markdown."""
    classes = list(card["classes"])
    lines = [
        f"# {card['name']}",
        "",
        f"- architecture: `{card['arch']}`, {card['params']:,} parameters, "
        f"{card['size_bytes'] / 1e6:.2f} MB",
        f"- classes ({card['class_set']}): {', '.join(classes)}",
        f"- input: float32 {tuple(card['input_shape'])} in [0, 1]; output: class probabilities",
        f"- data: {card['data']}",
        f"- split: {card['split']}",
        f"- training: {card.get('training', '')}",
        f"- training time: {card['training_time_s'] / 60:.1f} min on {card.get('device', '?')}",
        f"- CPU latency per image: {_latency(card.get('latency_ms_cpu'))}",
        f"- date: {card['date']}",
        "",
        "Command:",
        "",
        "```",
        card["command"],
        "```",
        "",
    ]
    lines += _metrics_rows("Validation (held out from Training)", card.get("validation"), classes)
    lines += _metrics_rows(f"Test ({card.get('test_split', 'test')})", card.get("test"), classes)
    if card.get("notes"):
        lines += ["## Notes", "", card["notes"], ""]
    return "\n".join(lines)


def write_card(stem: str | os.PathLike, card: dict) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md`; returns both paths."""
    stem = Path(stem)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    text, markdown = json.dumps(card, indent=2) + "\n", card_markdown(card)  # both, then write
    atomic_write_text(json_path, text)
    atomic_write_text(md_path, markdown)
    return json_path, md_path


def read_card(path: str | os.PathLike) -> dict:
    """Read a JSON card.

    Raises:
        FileNotFoundError: no card at `path`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model card {str(path)!r} not found.")
    return json.loads(path.read_text())


def model_table(cards: list[dict], default: str | None = None) -> str:
    """Markdown table of model cards: test accuracy, macro-F1, recall per class, size, latency.

    The row of model `default` (pass `zoo.default_model()`) is marked "(default)".
    """
    rows = [
        "| model | architecture | classes | test accuracy | macro-F1 | recall per class "
        "| params | size | CPU ms/image |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for card in cards:
        test = card.get("test") or {}
        recall = ", ".join(f"{c} {r:.2f}" for c, r in test.get("per_class_recall", {}).items())
        accuracy = f"{test['accuracy']:.1%}" if test else "n/a"
        macro_f1 = f"{test['macro_f1']:.3f}" if test else "n/a"
        latency = card.get("latency_ms_cpu")
        name = f"{card['name']} (default)" if card["name"] == default else card["name"]
        rows.append(
            f"| {name} | {card['arch']} | {card['class_set']} | {accuracy} | {macro_f1} "
            f"| {recall} | {card['params'] / 1e6:.2f}M | {card['size_bytes'] / 1e6:.1f} MB "
            f"| {'n/a' if latency is None else f'{latency:.1f}'} |"
        )
    return "\n".join(rows)
