"""What scoring a comment's parts costs a submission: the model's verdict with and without the parts rule.

Usage: .venv/bin/python benchmarks/parts_cost.py [--file data/fr_news_comments.csv] [--rounds 5]

For every comment of a labelled file (the shipped French corpus by default), times the active model's
verdict as a submission gets it (`intake.scored_verdict`: the score with its explanation, the sentence
tails when they can change the outcome, the link-free text when its link could reject it, the decision),
once with the shipped model's thresholds and once with the same thresholds without `approve_parts_below`
(the whole-score rule), the two in turn for each comment. Prints Markdown: the median and mean µs per
comment of each, over the comments whose tails are scored and over all (each comment's median pass of
`--rounds`); then the verdict's time for the longest comments a submission may hold, written to have as many
sentences as they can (MAX_TAILS bounds the tails scored).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model_training.data import load_file  # noqa: E402
from model_training.features import normalize_text, sentence_tails  # noqa: E402
from model_training.language import detect_language  # noqa: E402
from service.config import DEFAULT_MODELS_DIR  # noqa: E402
from service.moderation import intake  # noqa: E402
from service.moderation.model import load_model  # noqa: E402
from service.moderation.model_manager import thresholds_of  # noqa: E402


def per_comment(model, rules: list, prepared, rounds: int) -> list[list[float]]:
    """For each set of thresholds in `rules`, the median µs of each comment's verdict over `rounds` passes.

    Each comment is timed under every rule in turn, the order alternating
    from one pass to the next, so that neither rule finds the caches warmed
    by the other more often, after one untimed pass over every comment.
    """
    times = [[[] for _ in prepared] for _ in rules]
    for round_number in range(rounds + 1):
        for i, (submission, normalized, language) in enumerate(prepared):
            order = range(len(rules)) if (round_number + i) % 2 else reversed(range(len(rules)))
            for r in order:
                start = time.perf_counter()
                intake.scored_verdict(model, rules[r], submission, normalized, language)
                if round_number:
                    times[r][i].append(time.perf_counter() - start)
    return [[statistics.median(t) * 1e6 for t in rule] for rule in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=ROOT / "data" / "fr_news_comments.csv")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = load_model(DEFAULT_MODELS_DIR)
    parts = thresholds_of(model)
    whole = dataclasses.replace(parts, approve_parts_below=None,
                                by_language={k: b._replace(approve_parts_below=None)
                                             for k, b in parts.by_language.items()})
    texts = load_file(args.file).texts
    prepared = []
    for text in texts:
        normalized = normalize_text(text, trusted=parts.trusted_domains)
        prepared.append(({"text": text}, normalized, intake.language_of(detect_language(text), None)))
    without, with_parts = per_comment(model, [whole, parts], prepared, args.rounds)
    scored = [i for i, (_, normalized, language) in enumerate(prepared)
              if sentence_tails(normalized) and (parts.for_language(language).approve_parts_below or 0)
              > model.scorer.score("", explain=0, normalized=normalized).probability]
    print(f"{len(texts)} comments of {args.file.name}, model {model.version}; tails scored for {len(scored)} "
          f"({len(scored) / len(texts):.0%}), {sum(len(sentence_tails(prepared[i][1])) for i in scored)} tails\n")
    print("| comments | whole-score rule: median µs | parts rule: median µs | whole-score rule: mean µs "
          "| parts rule: mean µs |")
    print("|---|---|---|---|---|")
    for name, rows in (("whose tails are scored", scored), ("all", range(len(texts)))):
        a, b = [without[i] for i in rows], [with_parts[i] for i in rows]
        print(f"| {name} ({len(a)}) | {statistics.median(a):.0f} | {statistics.median(b):.0f} | "
              f"{statistics.fmean(a):.0f} | {statistics.fmean(b):.0f} |")
    longest(model, parts)


# The longest comments a submission may hold (65,525 bytes), written to have as many sentences as they can:
# each is cut at 65,000 characters.
LONGEST = {
    "one sentence": "Merci pour cet article, vraiment ",
    "13,000 one-word sentences": "Oui. ",
    "2,130 sentences of five or six words": "Bon article sur la pêche. Je suis d'accord avec le ministre. ",
}


def longest(model, thresholds) -> None:
    """The verdict's time for the longest comments, whose tails MAX_TAILS bounds."""
    print("\n| longest comment (65,000 characters) | tails scored | verdict ms (median of 5) |\n|---|---|---|")
    for name, unit in LONGEST.items():
        text = (unit * (65_000 // len(unit) + 1))[:65_000]
        normalized = normalize_text(text, trusted=thresholds.trusted_domains)
        times = []
        for _ in range(6):
            start = time.perf_counter()
            intake.scored_verdict(model, thresholds, {"text": text}, normalized, "fr")
            times.append(time.perf_counter() - start)
        print(f"| {name} | {len(sentence_tails(normalized))} | {statistics.median(times[1:]) * 1e3:.1f} |")


if __name__ == "__main__":
    main()
