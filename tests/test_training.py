"""model_training: corpus recognition, thresholds from out-of-fold scores, the written model directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_training.__main__ import main
from model_training.data import load_file
from model_training.errors import DataFormatError
from model_training.train import Targets, choose_thresholds, sha256_file
from service.moderation.model import load_model


def test_youtube_csv_is_recognised_and_metadata_is_dropped(uci_data):
    corpus = load_file(uci_data / "Youtube04-Eminem.csv")
    assert len(corpus) == 448 and sum(corpus.labels) == 245
    assert set(corpus.groups) == {"youtube:Youtube04-Eminem"}
    assert corpus.files[0]["format"] == "youtube"
    assert all(not t.startswith("z1") for t in corpus.texts)  # COMMENT_ID never leaks into the text


def test_sms_collection_is_recognised(uci_data):
    corpus = load_file(uci_data / "SMSSpamCollection")
    assert (len(corpus), sum(corpus.labels)) == (5574, 747)
    assert corpus.files[0]["format"] == "sms"


def test_generic_csv_and_jsonl_and_label_exports(tmp_path):
    (tmp_path / "a.csv").write_text('id,text,label\n1,"hello, friend",0\n2,buy now,spam\n')
    (tmp_path / "b.jsonl").write_text('{"text": "bonjour", "label": 0}\n{"text": "gagnez", "label": 1}\n')
    (tmp_path / "c.jsonl").write_text('{"text": "merci", "label": 0, "decided_by": "awa"}\n')
    assert load_file(tmp_path / "a.csv").labels == [0, 1]
    assert load_file(tmp_path / "b.jsonl").files[0]["format"] == "jsonl"
    export = load_file(tmp_path / "c.jsonl", label_weight=3.0)
    assert (export.files[0]["format"], export.weights) == ("labels", [3.0])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("just some prose\n", "unrecognised format"),
        ("text,label\nhello,maybe\n", "label 'maybe' is not one of 1/0/spam/ham"),
        ('{"text": "x"}\n', "each line must be an object with 'text' and 'label'"),
        ('{"text": "x", "label": 1}\n{oops\n', "not valid JSON"),
    ],
)
def test_unrecognised_or_broken_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "data.txt"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_file(path)


def test_thresholds_meet_precision_and_spam_leak_targets():
    rng = np.random.default_rng(0)
    labels = np.array([0] * 500 + [1] * 500)
    scores = np.clip(np.concatenate([rng.normal(0.2, 0.15, 500), rng.normal(0.8, 0.15, 500)]), 0, 1)
    chosen = choose_thresholds(labels, scores, Targets(reject_precision=0.99, max_spam_approved=0.02))
    rejected = scores >= chosen["reject_at"]
    approved = scores < chosen["approve_below"]
    assert labels[rejected].mean() >= 0.99
    assert labels[approved].sum() <= 0.02 * 500
    assert chosen["approve_below"] <= chosen["reject_at"]
    assert chosen["expected"]["review_share"] == pytest.approx(1 - approved.mean() - rejected.mean(), abs=1e-4)


def test_train_command_writes_a_model_the_service_loads(tmp_path, uci_data, capsys):
    status = main(["train", "--data", str(uci_data / "Youtube01-Psy.csv"), str(uci_data / "Youtube02-KatyPerry.csv"),
                   "--data", str(uci_data / "Youtube03-LMFAO.csv"), "--out", str(tmp_path)])
    assert status == 0
    out_dir = tmp_path / capsys.readouterr().out.strip().split("/")[-1]
    metadata = json.loads((out_dir / "metadata.json").read_text())
    assert metadata["artifact"]["sha256"] == sha256_file(out_dir / "model.joblib")
    assert [f["path"] for f in metadata["data"]["files"]] == ["Youtube01-Psy.csv", "Youtube02-KatyPerry.csv",
                                                              "Youtube03-LMFAO.csv"]
    assert {"python", "scikit-learn", "numpy", "scipy"} <= metadata["environment"].keys()
    assert metadata["metrics"]["out_of_fold"]["roc_auc"] > 0.9
    assert load_model(out_dir).version == metadata["version"]


def test_train_command_reports_bad_data_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing to see\n")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: unrecognised format")
