"""model_training: corpus recognition, thresholds from out-of-fold scores, the written model directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_training.__main__ import main
from model_training.artifact import sha256_file
from model_training.data import Corpus, deduplicate, fold_groups, load_corpora, load_file, threshold_mask
from model_training.errors import DataFormatError
from model_training.evaluate import EXCERPT_CHARS, OutOfFold, confident_mistakes, single_threshold
from model_training.fetch import fetch
from model_training.report import markdown_cell
from model_training.train import (
    Targets,
    choose_thresholds,
    highest_safe_approve_below,
    threshold_groups,
    thresholds_for,
)
from service.moderation.model import load_model
from tests.conftest import FRENCH_CORPUS


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
    (tmp_path / "a.csv").write_text('id,text,label\n1,"hello, friend",0\n2,buy now,spam\n3,win,1.0\n4,ok,0.0\n')
    (tmp_path / "b.jsonl").write_text('{"text": "bonjour", "label": 0}\n{"text": "gagnez", "label": 1}\n')
    (tmp_path / "c.jsonl").write_text('{"text": "merci", "label": 0, "decided_by": "awa"}\n')
    assert load_file(tmp_path / "a.csv").labels == [0, 1, 1, 0]
    assert load_file(tmp_path / "b.jsonl").files[0]["format"] == "jsonl"
    export = load_file(tmp_path / "c.jsonl", weights={"labels": 3.0, "sms": 0.1})
    assert (export.files[0]["format"], export.weights, export.files[0]["weight"]) == ("labels", [3.0], 3.0)


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        # What a French spreadsheet saves as CSV: semicolons, Windows-1252, CRLF, its own capitalisation.
        ("Id;Text;Label;Kind\r\n1;\"Très bien écrit; merci\";ham;opinion\r\n2;Gagnez 1000 € ici;spam;\r\n"
         .encode("cp1252"), "cp1252"),
        # "Unicode text": UTF-16 with tabs.
        ("text\tlabel\nTrès bien écrit; merci\t0\nGagnez 1000 € ici\t1\n".encode("utf-16"), "utf-16"),
        ("\ufeffTEXT,Label\n\"Très bien écrit; merci\",0\nGagnez 1000 € ici,1\n".encode(), "utf-8"),
        ("label|text\n0|Très bien écrit; merci\n1|Gagnez 1000 € ici\n".encode(), "utf-8"),
    ],
)
def test_a_text_label_csv_is_read_whatever_its_delimiter_encoding_and_header_case(tmp_path, raw, encoding):
    (tmp_path / "stream.csv").write_bytes(raw)
    corpus = load_file(tmp_path / "stream.csv")
    assert (corpus.texts, corpus.labels) == (["Très bien écrit; merci", "Gagnez 1000 € ici"], [0, 1])
    assert corpus.files[0]["encoding"] == encoding


def test_a_stray_byte_in_a_utf8_file_is_replaced_and_said(tmp_path, capsys):
    rows = "".join(f"Déjà lu (numéro {i}),0\n" for i in range(50)).encode()
    (tmp_path / "mixed.csv").write_bytes(b"text,label\n" + rows + b"caf\xe9 offert,1\n")
    corpus = load_file(tmp_path / "mixed.csv")
    assert (len(corpus), corpus.texts[0], corpus.texts[-1]) == (51, "Déjà lu (numéro 0)", "caf\ufffd offert")
    assert corpus.files[0]["encoding"] == "utf-8 with U+FFFD for the bytes that are not"
    assert "mixed.csv: not UTF-8, read as utf-8 with U+FFFD" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("just some prose\n", "unrecognised format"),
        ("text,label\nhello,maybe\n", "label 'maybe' is not one of 1/0/spam/ham"),
        ('text,label\n"an open quote,0\nhello,1\n', r"data.txt:3: the row has no label \(is a quote left open"),
        ('text,label\n"' + "a" * 200_000 + '",1\n', "data.txt:2: not readable as CSV"),
        ('{"text": "x"}\n', "each line must be an object with 'text' and 'label'"),
        ('{"text": "x", "label": 1}\n{oops\n', "not valid JSON"),
    ],
)
def test_unrecognised_or_broken_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "data.txt"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_file(path)


def out_of_fold(scores, without_links=None, languages=None) -> OutOfFold:
    """Out-of-fold scores as cross_validate returns them, for tests that choose thresholds."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    return OutOfFold(scores, np.full(n, np.nan) if without_links is None else np.asarray(without_links, dtype=float),
                     np.asarray(["en"] * n if languages is None else languages), np.ones(n, bool))


def test_thresholds_meet_precision_and_spam_leak_targets_in_every_group():
    rng = np.random.default_rng(0)
    labels = np.array([0] * 500 + [1] * 500)
    scores = np.clip(np.concatenate([rng.normal(0.2, 0.15, 500), rng.normal(0.8, 0.15, 500)]), 0, 1)
    groups = np.array(["a", "b"] * 500)
    chosen = choose_thresholds(labels, out_of_fold(scores), groups, Targets(reject_precision=0.99, max_spam_approved=0.02))
    rejected = scores >= chosen["reject_at"]
    approved = scores < chosen["approve_below"]
    for group in ("a", "b"):
        mine = groups == group
        assert labels[rejected & mine].mean() >= 0.99
        assert labels[approved & mine].sum() <= 0.02 * labels[mine].sum()
    assert chosen["approve_below"] <= chosen["reject_at"]
    assert chosen["expected"]["review_share"] == pytest.approx(1 - approved.mean() - rejected.mean(), abs=1e-4)


def test_one_unusual_spam_among_a_few_dozen_does_not_close_auto_approval_but_thousands_keep_the_exact_share():
    # A site's first labels: 30 spam, one of which reads like ham (an "illuminati" message with no link).
    labels = np.array([0] * 70 + [1] * 30)
    scores = np.concatenate([np.linspace(0.0, 0.2, 70), [0.009], np.linspace(0.3, 0.99, 29)])
    targets = Targets(reject_precision=0.99, max_spam_approved=0.02)
    chosen = choose_thresholds(labels, out_of_fold(scores), np.array(["labels"] * 100), targets)
    assert 0.009 < chosen["approve_below"] < 0.3  # interpolated between the two lowest spam, not stuck under the first
    assert chosen["expected"]["spam_auto_approved"] == 1  # the interpolated 2 % of 30: at most one beyond the share
    many = np.random.default_rng(2).uniform(0, 1, 5000)
    assert (many < highest_safe_approve_below(np.ones(5000), many, 0.02)).sum() == 100


def test_the_worst_group_sets_reject_at_and_a_link_only_ham_does_not():
    labels = np.array([1] * 50 + [0] * 50 + [1] * 50 + [0] * 50)
    scores = np.concatenate([np.linspace(0.8, 0.99, 50), np.linspace(0.0, 0.3, 50)] * 2)
    groups = np.array(["a"] * 100 + ["b"] * 100)
    targets = Targets(reject_precision=0.99, max_spam_approved=0.02)
    assert choose_thresholds(labels, out_of_fold(scores), groups, targets)["reject_at"] == pytest.approx(0.8)
    scores[150] = 0.95  # one ham of group b among its spam: b alone now needs a higher threshold
    assert choose_thresholds(labels, out_of_fold(scores), groups, targets)["reject_at"] > 0.95
    without_links = np.full(len(scores), np.nan)
    without_links[150] = 0.01  # ...unless its words alone read as ham: the service never rejects it for its link
    chosen = choose_thresholds(labels, out_of_fold(scores, without_links), groups, targets)
    assert chosen["reject_at"] == pytest.approx(0.8)
    assert chosen["expected"]["ham_auto_rejected"] == 0


def test_each_language_with_enough_comments_gets_its_own_thresholds():
    rng = np.random.default_rng(1)
    corpus = Corpus()
    for i in range(400):
        corpus.add(f"t{i}", i % 2, f"csv:c{i % 4}")
    # English separates at 0.5 and French at 0.3 (scores and languages as cross_validate would give them).
    languages = np.array(["en"] * 200 + ["fr"] * 200)
    labels = np.asarray(corpus.labels)
    centre = np.where(languages == "en", 0.5, 0.3)
    scores = np.clip(centre + np.where(labels == 1, 0.2, -0.2) + rng.normal(0, 0.03, 400), 0, 1)
    thresholds = thresholds_for(corpus, out_of_fold(scores, languages=languages), Targets())
    fr, en = thresholds["by_language"]["fr"], thresholds["by_language"]["en"]
    assert fr["reject_at"] < 0.3 < en["reject_at"]  # French ham sits near 0.1, English ham near 0.3
    assert fr["approve_below"] < en["approve_below"]
    assert thresholds["expected"]["automated_share"] == 1.0


def test_a_site_s_first_labels_are_judged_whole_and_a_large_pooled_file_by_its_slices():
    # The slices of a few dozen spam labels hold six spam each: the slice with the unusual one must not set the
    # threshold on its own.
    corpus = Corpus()
    labels = [0] * 70 + [1] * 30
    for i, label in enumerate(labels):
        corpus.add(f"texte {i}", label, "labels:site")
    scores = np.concatenate([np.linspace(0.0, 0.2, 70), [0.009], np.linspace(0.3, 0.99, 29)])
    thresholds = thresholds_for(corpus, out_of_fold(scores, languages=["fr"] * 100), Targets())
    assert thresholds["by_language"]["fr"]["approve_below"] > 0.15
    assert set(threshold_groups(corpus, Targets())) == {"labels:site"}
    # 250 spam: each of the five slices can hold one leaked spam of 50, so each is judged as a page of its own.
    large = Corpus()
    for i in range(600):
        large.add(f"texte {i}", int(i < 250), "csv:site")
    assert set(threshold_groups(large, Targets())) == {f"csv:site#{k}" for k in range(5)}
    assert set(threshold_groups(large, Targets(max_spam_approved=0.01))) == {"csv:site"}


@pytest.mark.parametrize(("french_ham", "own"), [(60, False), (120, True)])
def test_a_language_with_fewer_than_100_ham_rejects_no_lower_than_the_global_pair(french_ham, own):
    # English comments: ham up to 0.85, so the global pair rejects from above it. French labels: ham below 0.4,
    # spam from 0.6: alone they would reject from 0.6, which sixty ham cannot vouch for.
    rng = np.random.default_rng(3)
    corpus, scores, languages = Corpus(), [], []
    for i in range(400):
        corpus.add(f"en {i}", i % 2, "csv:english")
        scores.append(rng.uniform(0.6, 0.99) if i % 2 else rng.uniform(0.0, 0.85))
        languages.append("en")
    for i in range(french_ham + 40):
        spam = i >= french_ham
        corpus.add(f"fr {i}", int(spam), "labels:site")
        scores.append(rng.uniform(0.6, 0.99) if spam else rng.uniform(0.0, 0.4))
        languages.append("fr")
    thresholds = thresholds_for(corpus, out_of_fold(scores, languages=languages), Targets())
    french = thresholds["by_language"]["fr"]["reject_at"]
    assert thresholds["reject_at"] > 0.85
    assert (french < 0.65) if own else (french >= thresholds["reject_at"])


def test_the_french_corpus_keeps_its_kinds_and_counts_for_thresholds_but_sms_does_not(uci_data, tmp_path):
    french = load_file(FRENCH_CORPUS)
    assert (len(french), sum(french.labels)) == (700, 250)
    assert "spam:marabout" in french.kinds and french.family(0) == "csv:fr_news_comments"
    assert all(threshold_mask(french))
    sms = load_file(uci_data / "SMSSpamCollection")
    assert not any(threshold_mask(sms)) and sms.weights[0] == 0.1


def test_train_command_writes_a_model_the_service_loads(tmp_path, uci_data, capsys):
    status = main(["train", "--data", str(uci_data / "Youtube01-Psy.csv"), str(uci_data / "Youtube02-KatyPerry.csv"),
                   "--data", str(uci_data / "Youtube03-LMFAO.csv"), "--out", str(tmp_path), "--no-search",
                   "--no-baselines"])
    assert status == 0
    out_dir = tmp_path / capsys.readouterr().out.strip().split("/")[-1]
    metadata = json.loads((out_dir / "metadata.json").read_text())
    assert metadata["artifact"]["sha256"] == sha256_file(out_dir / "model.joblib")
    assert [f["path"] for f in metadata["data"]["files"]] == ["Youtube01-Psy.csv", "Youtube02-KatyPerry.csv",
                                                              "Youtube03-LMFAO.csv"]
    assert {"python", "scikit-learn", "numpy", "scipy"} <= metadata["environment"].keys()
    assert metadata["metrics"]["out_of_fold"]["roc_auc"] > 0.9
    assert metadata["metrics"]["leave_one_video_out"]["videos"] == 3
    assert metadata["data"]["languages"]["en"] > 500
    for bounds in (metadata["thresholds"], *metadata["thresholds"]["by_language"].values()):
        assert 0 < bounds["approve_parts_below"] <= bounds["reject_at"]  # comments of several sentences
    assert "(several sentences: " in (out_dir / "report" / "report.md").read_text()
    assert load_model(out_dir).version == metadata["version"]
    assert load_model(out_dir).known_languages == frozenset({"en"})
    report = json.loads((out_dir / "report" / "report.json").read_text())
    assert report["model_version"] == metadata["version"]
    assert sorted(report["by_source"]) == ["youtube:Youtube01-Psy", "youtube:Youtube02-KatyPerry",
                                           "youtube:Youtube03-LMFAO"]
    assert report["top_ngrams"]["spam"][0]["weight"] > 0 > report["top_ngrams"]["ham"][0]["weight"]

    # evaluate on a trained directory reads the top n-grams from its artifact
    assert main(["evaluate", "--model", str(out_dir), "--data", str(uci_data / "Youtube01-Psy.csv"),
                 str(uci_data / "Youtube02-KatyPerry.csv"), "--out", str(tmp_path / "eval"), "--no-baselines"]) == 0
    evaluated = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert evaluated["top_ngrams"] == report["top_ngrams"]

    # and refuses an artifact that no longer matches its metadata
    (out_dir / "model.joblib").write_bytes(b"tampered")
    assert main(["evaluate", "--model", str(out_dir), "--data", str(uci_data / "Youtube01-Psy.csv"),
                 "--out", str(tmp_path / "eval2")]) == 2
    assert "sha256 does not match" in capsys.readouterr().err


def configuration_dir(tmp_path):
    """A model directory with only metadata.json: a configuration for `evaluate` to try."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "metadata.json").write_text(json.dumps(
        {"version": "v-test", "params": {"C": 10.0}, "thresholds": {"approve_below": 0.1, "reject_at": 0.9}}))
    return model_dir


def test_evaluate_writes_report_with_baselines_and_plots(tmp_path, uci_data):
    model_dir = configuration_dir(tmp_path)
    out = tmp_path / "report"
    status = main(["evaluate", "--model", str(model_dir), "--data", str(uci_data / "Youtube01-Psy.csv"),
                   str(uci_data / "Youtube05-Shakira.csv"), "--out", str(out)])
    assert status == 0
    report = json.loads((out / "report.json").read_text())
    lovo = report["leave_one_video_out"]
    assert lovo["videos"] == 2 and lovo["roc_auc"] > 0.9
    assert report["baselines"]["majority"]["leave_one_video_out"]["roc_auc"] == 0.5
    assert report["baselines"]["multinomial_nb"]["leave_one_video_out"]["roc_auc"] > 0.5
    for name in ("roc.png", "precision_recall.png", "score_histogram.png", "calibration.png", "confusion.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 0 < lovo["best_single_threshold"] < 1
    assert lovo["f1_at_threshold_from_other_videos"] <= lovo["f1_at_best_single_threshold"] <= lovo["best_f1"]
    for mistake in report["confident_mistakes"]["ham_scored_as_spam"]:
        assert mistake["label"] == 0 and mistake["score"] >= 0.5
    markdown = (out / "report.md").read_text()
    assert "## Leave one video out" in markdown and "| multinomial_nb |" in markdown
    assert "## Most confident mistakes (out of fold)" in markdown
    assert "Thresholds: approve below 0.1000, reject at 0.9000." in markdown  # a configuration from before parts
    by_language = report["by_language"]
    assert "en" in by_language and set(by_language) <= {"en", "und", "other"}
    assert sum(s["examples"] for s in by_language.values()) == report["overall"]["examples"]
    assert "| language: en |" in markdown


def test_one_threshold_for_every_video_is_measured_in_hindsight_and_on_unseen_videos():
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    # Video a separates at 0.21-0.30, video b at 0.61-0.70: no threshold suits both.
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    sources = np.array(["youtube:a"] * 4 + ["youtube:b"] * 4)
    result = single_threshold(labels, scores, sources)
    # At 0.21 video a is perfect and b flags everything (F1 2/3): the mean 5/6 is the best.
    assert result["best_single_threshold"] == 0.21
    assert result["f1_at_best_single_threshold"] == round(5 / 6, 4)
    # Chosen on b alone (0.61), a gets F1 0; chosen on a alone (0.21), b gets 2/3.
    assert result["f1_at_threshold_from_other_videos"] == round(1 / 3, 4)
    assert single_threshold(labels, scores, np.array(["sms"] * 8)) is None


def test_confident_mistakes_are_the_surest_wrong_scores_first():
    corpus = Corpus()
    for text, label in [("ham a", 0), ("ham b", 0), ("ham c", 0), ("spam a", 1), ("spam b", 1), ("x" * 500, 1)]:
        corpus.add(text, label, "youtube:v")
    scores = out_of_fold([0.9, 0.6, 0.1, 0.4, 0.95, 0.2])
    mistakes = confident_mistakes(corpus, scores, limit=5)
    assert [m["text"] for m in mistakes["ham_scored_as_spam"]] == ["ham a", "ham b"]
    assert [m["score"] for m in mistakes["spam_scored_as_ham"]] == [0.2, 0.4]
    assert len(mistakes["spam_scored_as_ham"][0]["text"]) == EXCERPT_CHARS
    assert confident_mistakes(corpus, scores, limit=1)["ham_scored_as_spam"][0]["score"] == 0.9


def test_corpus_text_in_the_markdown_report_is_inert():
    cell = markdown_cell('<script>alert(1)</script> | [win](http://spam.example) **now** `x` &#39;')
    assert "<" not in cell and "|" not in cell
    assert "](" not in cell.replace("\\](", "") and "**" not in cell.replace("\\*", "")
    assert cell.startswith("&lt;script&gt;")


@pytest.mark.parametrize("bad", ["sms", "sms=x", "tweets=1", "sms=-1"])
def test_bad_weight_option_is_refused(bad, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "x", "--out", "y", "--weight", bad])
    assert info.value.code == 2
    assert "expected FORMAT=WEIGHT" in capsys.readouterr().err


def test_train_command_reports_bad_data_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing to see\n")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: unrecognised format")


def test_a_directory_of_corpus_files_is_read_file_by_file_and_a_label_archive_as_one(tmp_path, uci_data):
    corpus = load_corpora([uci_data])
    # In the order fetch-data lists them (the videos, then SMS): a text in both is kept as a web comment.
    assert [f["path"] for f in corpus.files] == [path.name for path in fetch(uci_data.parent)]
    assert len(deduplicate(corpus)[0]) == len(deduplicate(load_corpora(fetch(uci_data.parent)))[0])
    archive = tmp_path / "labels"
    archive.mkdir()
    with pytest.raises(DataFormatError, match="no labelled rows"):  # an archive with no label yet
        load_corpora([archive])
    (archive / "labels-2026-12-01.jsonl").write_text('{"text": "merci", "label": 0, "decided_by": "awa"}\n')
    (archive / "labels-2026-12-02.jsonl").write_text('{"text": "gagnez", "label": 1, "decided_by": "awa"}\n')
    assert [(f["format"], f["rows"]) for f in load_corpora([archive]).files] == [("labels", 2)]


def test_too_little_data_to_learn_from_is_a_clear_error(tmp_path, capsys):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("text,label\nhello there,0\nwin cash now,1\nnice video,0\nfree money,1\n")
    assert main(["train", "--data", str(tiny), "--C", "10", "--out", str(tmp_path / "out")]) == 2
    assert "\nerror: cannot train on 3 examples, 2 of them spam: " in capsys.readouterr().err


def test_a_single_video_is_cut_into_slices_to_train_on_and_judged_whole(tmp_path, uci_data, capsys):
    one = load_file(uci_data / "Youtube01-Psy.csv")
    assert set(fold_groups(one)) == {f"youtube:Youtube01-Psy#{k}" for k in range(5)}
    assert set(threshold_groups(one, Targets())) == {"youtube:Youtube01-Psy"}  # 175 spam: too few for slices
    two = load_corpora([uci_data / "Youtube01-Psy.csv", uci_data / "Youtube03-LMFAO.csv"])
    assert set(fold_groups(two)) == {"youtube:Youtube01-Psy", "youtube:Youtube03-LMFAO"}
    # A video plus a site's first labels (all ham here): the labels are never all a model is trained on.
    (tmp_path / "labels.csv").write_text("text,label\n" + "".join(f"Merci pour l'article {i},0\n" for i in range(40)))
    one.extend(load_file(tmp_path / "labels.csv"))
    assert {group.split("#")[0] for group in fold_groups(one)} == {"youtube:Youtube01-Psy", "csv:labels"}
    assert len(set(fold_groups(one))) == 10
    assert main(["train", "--data", str(uci_data / "Youtube01-Psy.csv"), str(tmp_path / "labels.csv"), "--C", "10",
                 "--no-search", "--no-baselines", "--out", str(tmp_path / "out")]) == 0
    assert "wrote " in capsys.readouterr().err


def test_report_holds_each_source_and_each_kind_out_of_training(tmp_path, uci_data):
    model_dir = configuration_dir(tmp_path)
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(model_dir), "--data", str(uci_data / "Youtube01-Psy.csv"),
                 str(FRENCH_CORPUS), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    rows = {r["held_out"]: r for r in report["cross_source"]}
    assert set(rows) == {"youtube", "csv:fr_news_comments"}
    assert rows["csv:fr_news_comments"]["trained_on"] == ["youtube"]
    # Trained on English only, French is a language the model does not know: the service would hold all of it.
    assert rows["csv:fr_news_comments"]["policy"]["automated_share"] < 0.2
    assert 0.5 < rows["csv:fr_news_comments"]["roc_auc"] <= 1
    kinds = report["unseen_kinds"]
    assert len(kinds) == 34 and "spam:marabout" in kinds and "ham:opinion" in kinds
    for kind, policy in kinds.items():
        assert policy["approved_share"] + policy["review_share"] + policy["rejected_share"] == pytest.approx(1, abs=2e-4)
        assert policy["spam_auto_approved_share"] is None if kind.startswith("ham") else policy["ham_auto_rejected_share"] is None
    assert "## Kinds never seen" in (out / "report.md").read_text()
