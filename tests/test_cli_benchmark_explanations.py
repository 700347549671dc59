"""`emolens benchmark-explanations`: printed table, CSV and markdown agree; skips have reasons."""

import csv
import math

from emolens.cli import main


def _markdown_rows(text, header_start="| method |"):
    lines = text[text.index(header_start) :].splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, [c.strip() for c in line.strip("|").split("|")], strict=True)))
    return rows


def test_benchmark_writes_csv_and_markdown_that_match_the_printed_table(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["benchmark-explanations", "--out", str(out), "--n", "6", "--steps", "4"]
    assert main([*argv, "--methods", "grad_cam,attention_map,saliency"]) == 0
    printed = capsys.readouterr().out
    markdown = (out / "benchmark.md").read_text()
    assert markdown in printed  # printed = the markdown file, then where it was written
    with open(out / "benchmark.csv", newline="") as file:
        table = list(csv.DictReader(file))
    shown = _markdown_rows(markdown)
    assert [r["method"] for r in table] == [r["method"] for r in shown] == [
        "grad_cam", "attention_map", "saliency",
    ]  # fmt: skip
    for full, rounded in zip(table, shown, strict=True):
        for column, value in full.items():
            if column in ("method", "skipped"):
                assert rounded[column] == value
            elif math.isnan(float(value)):
                assert rounded[column] == "-"
            else:
                assert float(rounded[column]) == round(float(value), 3)
    attention = table[1]
    assert attention["skipped"] and math.isnan(float(attention["part_mass"]))  # CNN: no attention
    grad_cam = table[0]
    assert grad_cam["skipped"] == "" and 0 <= float(grad_cam["part_mass"]) <= 1
    assert float(grad_cam["part_mass_shortcut"]) < float(grad_cam["part_mass"]) / 3
    assert not [p.name for p in out.iterdir() if p.name not in ("benchmark.csv", "benchmark.md")]


def test_an_unknown_method_is_a_usage_error(tmp_path, capsys):
    argv = ["benchmark-explanations", "--out", str(tmp_path), "--methods", "grad_cam,nope"]
    assert main(argv) == 2
    assert "nope" in capsys.readouterr().err
