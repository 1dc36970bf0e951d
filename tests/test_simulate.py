"""simulate: a new site's comments replayed against a model that learns from the moderators' labels."""

from __future__ import annotations

import csv
import json
import random
import sys

from model_training.__main__ import main
from model_training.evaluate import progress
from tests.conftest import FRENCH_CORPUS


def stream_file(tmp_path, n: int = 160):
    """A text,label CSV as a French spreadsheet saves it (semicolons, capitalised header): French comments in a
    fixed shuffled order."""
    with FRENCH_CORPUS.open(encoding="utf-8") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    random.Random(1).shuffle(rows)
    path = tmp_path / "stream.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([("Text", "Label"), *rows[:n]])
    return path


def test_simulate_writes_one_entry_per_retraining_and_the_plot(tmp_path, uci_data, capsys):
    stream = stream_file(tmp_path)
    out = tmp_path / "sim"
    assert main(["simulate", "--data", str(uci_data / "Youtube01-Psy.csv"), str(uci_data / "Youtube03-LMFAO.csv"),
                 "--stream", str(stream), "--every", "40", "--C", "10", "--out", str(out)]) == 0
    curve = json.loads((out / "curve.json").read_text())
    assert (out / "curve.png").stat().st_size > 10_000
    assert sum(entry["seen"] for entry in curve) == 160  # every comment counted once
    retrainings = [entry["labels"] for entry in curve[:-1]]
    assert retrainings == [40 * k for k in range(1, len(retrainings) + 1)]
    assert [entry["model_labels"] for entry in curve] == [0, *retrainings]
    for entry in curve:
        assert {"labels", "seen", "auto_share", "ham_auto_rejected", "spam_auto_approved"} <= entry.keys()
        assert entry["ham"] + entry["spam"] == entry["seen"] and 0 <= entry["auto_share"] <= 1
    # Each comment sent to review became a label: the labels are what was not automated.
    held = sum(round(entry["seen"] * (1 - entry["auto_share"])) for entry in curve)
    assert held == curve[-1]["labels"]
    # An English model holds French comments for review; once it has learnt from the labels it decides some.
    assert curve[0]["auto_share"] <= 0.05 and max(entry["auto_share"] for entry in curve[1:]) > 0.2
    err = capsys.readouterr().err
    assert "simulate: 160/160" in err and "retraining on" in err  # plain progress lines off a terminal
    first = curve[0]  # and the curve in words, one line a model
    assert (f"model trained on 0 labels: {first['seen']} comments, {first['auto_share']:.1%} auto-decided; "
            f"ham auto-rejected {first['ham_auto_rejected']:.1%} of {first['ham']}, spam auto-approved ") in err
    assert "model trained on 40 labels: " in err


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(capsys, monkeypatch):
    with progress(total=20, desc="steps") as bar:
        for _ in range(20):
            bar.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("steps: 1/20") and lines[-1].endswith("steps: 20/20") and len(lines) == 11
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal: one bar redrawn in place
    with progress(total=20, desc="steps") as bar:
        for _ in range(20):
            bar.update()
    err = capsys.readouterr().err
    assert "\r" in err and "steps: 100%" in err and "20/20" in err and "steps: 1/20" not in err
