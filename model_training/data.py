"""Load labelled corpora, recognising each format by its content.

Supported: the UCI YouTube Spam Collection CSVs, the UCI `SMSSpamCollection`
file, a generic CSV (comma, semicolon, tab or bar between cells; any header
case; UTF-8, UTF-16 or a spreadsheet's single-byte encoding) or JSONL with
`text` and `label` (1 = spam) columns, and the JSONL written by
`export-labels` (recognised by its `decided_by` field), or a directory of
such files: the service's label archive (MODERATION_LABELS_DIR), where a
comment's newest decision wins. A directory without JSONL is read file by
file (`load_corpora`). Only the text and the label are kept: dates, authors
and ids are metadata that leak labels (every spam row of the Eminem file
has an empty DATE).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

from .console import log
from .errors import DataFormatError
from .features import URL_TOKEN, normalize_text

# Groups that are one big pool (an SMS file, a label export) are split into
# this many stable slices so that grouped cross-validation can hold them out.
POOL_SLICES = 5
# Trained on and reported, but not used to set thresholds: SMS is not web comments (its ham is personal texting
# and bank notices), so it must not decide how a comment page is moderated.
AUXILIARY_FORMATS = frozenset({"sms"})
# What a text file that is not UTF-8 may be in, for the French and English sites this is for: what spreadsheets
# on Windows and macOS save CSV as. charset-normalizer picks one (a short text reads as Windows-1252).
SINGLE_BYTE_ENCODINGS = ("cp1252", "iso8859_15", "mac_roman")
# What a CSV's columns may be separated by, tried in this order on its header.
CSV_DELIMITERS = ",;\t|"
YOUTUBE_HEADER = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]
# SMS is premium-rate spam and personal texting: extra spam vocabulary, not web comments, so it weighs less.
# The moderators' labels are the site's own truth and weigh more than the public corpora: 10, measured with
# `simulate` (docs/learning-loop.md).
DEFAULT_WEIGHTS = {"sms": 0.1, "labels": 10.0}
# How a label may be written; "1.0" and "0.0" are what a pandas column with a missing value writes.
LABEL_WORDS = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "spam": 1, "ham": 0, "true": 1, "false": 0}


@dataclass
class Corpus:
    """Texts with their labels, the source format and a group per row (a video, a file)."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # a file's own sub-grouping (the French corpus's `kind`), or ""

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, label: int, group: str, weight: float = 1.0, kind: str = "") -> None:
        """Append one labelled example."""
        self.texts.append(text)
        self.labels.append(label)
        self.groups.append(group)
        self.weights.append(weight)
        self.kinds.append(kind)

    def source(self, index: int) -> str:
        """Return the source of one example: a YouTube video, the SMS file, a CSV or JSONL file by name."""
        return self.groups[index]

    def family(self, index: int) -> str:
        """Return the collection an example belongs to: "youtube" for every video, else its source."""
        group = self.groups[index]
        return "youtube" if group.startswith("youtube:") else group

    def extend(self, other: Corpus) -> None:
        """Append every example and file record of another corpus."""
        self.texts += other.texts
        self.labels += other.labels
        self.groups += other.groups
        self.weights += other.weights
        self.files += other.files
        self.kinds += other.kinds


def _parse_label(raw, where: str) -> int:
    if raw is None:  # a short row, or a quote left open that took the rest of the file into one cell
        raise DataFormatError(f"{where}: the row has no label (is a quote left open on an earlier line?)")
    value = LABEL_WORDS.get(str(raw).strip().lower())
    if value is None:
        raise DataFormatError(f"{where}: label {raw!r} is not one of 1/0/spam/ham")
    return value


def _csv_rows(reader, path: Path):
    """A csv reader's rows with the line each ends on; what the csv module cannot parse is a DataFormatError."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell beyond csv.field_size_limit (128 KB), for one
            raise DataFormatError(f"{path}:{reader.line_num}: not readable as CSV ({exc})") from exc
        yield row, reader.line_num


def _read_youtube(text: str, path: Path, corpus: Corpus) -> str:
    group = f"youtube:{path.stem}"
    for row, n in _csv_rows(csv.DictReader(io.StringIO(text)), path):
        content = row.get("CONTENT")
        if content is None or row.get("CLASS") is None:
            raise DataFormatError(f"{path}:{n}: row has too few columns")
        corpus.add(content, _parse_label(row["CLASS"], f"{path}:{n}"), group)
    return "youtube"


def _read_sms(text: str, path: Path, corpus: Corpus) -> str:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, sep, message = line.partition("\t")
        if not sep:
            raise DataFormatError(f"{path}:{n}: expected 'ham' or 'spam', a TAB, then the text")
        corpus.add(message, _parse_label(label, f"{path}:{n}"), "sms")
    return "sms"


def csv_columns(first_line: str) -> tuple[str, list[str]] | None:
    """The delimiter and column names (stripped, lower case) of a CSV header naming `text` and `label` columns.

    Commas, semicolons (what a spreadsheet writes in French), tabs and bars
    are tried in that order; None when no delimiter gives both columns.
    """
    for delimiter in CSV_DELIMITERS:
        columns = [cell.strip().lower() for cell in next(csv.reader([first_line], delimiter=delimiter), [])]
        if "text" in columns and "label" in columns:
            return delimiter, columns
    return None


def _read_generic_csv(text: str, path: Path, corpus: Corpus, delimiter: str, columns: list[str]) -> str:
    rows = _csv_rows(csv.reader(io.StringIO(text), delimiter=delimiter), path)
    next(rows)  # the header, read by csv_columns
    for cells, n in rows:
        row = dict(zip(columns, cells, strict=False))
        if not (row.get("text") or "").strip():
            continue
        corpus.add(row["text"], _parse_label(row.get("label"), f"{path}:{n}"), f"csv:{path.stem}",
                   kind=(row.get("kind") or "").strip())
    return "csv"


def _read_jsonl(text: str, path: Path, corpus: Corpus) -> str:
    """Rows with `text` and `label`; a row with the `comment_id` of an earlier one replaces it (a revised label)."""
    kind = "jsonl"
    rows: dict = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or "label" not in record:
            raise DataFormatError(f"{path}:{n}: each line must be an object with 'text' and 'label'")
        if "decided_by" in record:
            kind = "labels"
        key = record.get("comment_id") or n
        rows.pop(key, None)  # the newest decision on a comment wins, in its place in time
        rows[key] = (record["text"], _parse_label(record["label"], f"{path}:{n}"))
    for row_text, label in rows.values():
        corpus.add(row_text, label, f"{kind}:{path.stem}")
    return kind


def _read_bytes(path: Path) -> bytes:
    """A file's bytes; for a directory (a label archive), its JSONL files' complete lines in name order."""
    if not path.is_dir():
        return path.read_bytes()
    parts = []
    for file in sorted(path.glob("*.jsonl")):
        data = file.read_bytes()
        parts.append(data[:data.rfind(b"\n") + 1])  # a line still being written is left for next time
    return b"".join(parts)


FORMATS = ("youtube", "sms", "csv", "jsonl", "labels")


def decode(raw: bytes, path: Path) -> tuple[str, str]:
    """A file's text and the encoding it was read in, never changed without saying so.

    UTF-8 (a byte-order mark dropped); UTF-16 with its byte-order mark (a
    spreadsheet's "Unicode text"); UTF-8 with a few stray bytes replaced by
    U+FFFD when the rest of its non-ASCII text is UTF-8; else the one of
    SINGLE_BYTE_ENCODINGS that charset-normalizer finds (a spreadsheet's
    Windows-1252 CSV). Anything but plain UTF-8 is said in the log.
    """
    try:
        return raw.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, text = "utf-16", raw.decode("utf-16", errors="replace")
    else:
        text = raw.decode("utf-8", errors="replace")
        encoding = "utf-8 with U+FFFD for the bytes that are not"
        if not any(not ch.isascii() and ch != "\ufffd" for ch in text):  # no UTF-8 at all: a single-byte encoding
            guess = charset_normalizer.from_bytes(raw, cp_isolation=list(SINGLE_BYTE_ENCODINGS)).best()
            if guess is not None:
                encoding, text = guess.encoding, str(guess)
    log(f"{path}: not UTF-8, read as {encoding}")
    return text.removeprefix("\ufeff"), encoding


def load_file(path: str | Path, *, weights: dict | None = None) -> Corpus:
    """Read one corpus file, recognising its format by content.

    `weights` maps a format name (youtube, sms, csv, jsonl, labels) to the
    sample weight its examples get in training (DEFAULT_WEIGHTS, else 1).
    """
    path = Path(path)
    try:
        raw = _read_bytes(path)
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if not raw.strip():
        raise DataFormatError(f"{path}: empty, no labelled rows")
    text, encoding = decode(raw, path)
    first_line = text.split("\n", 1)[0].strip().strip("\r")
    header = [cell.strip() for cell in next(csv.reader([first_line]), [])]
    corpus = Corpus()
    if header[:5] == YOUTUBE_HEADER:
        kind = _read_youtube(text, path, corpus)
    elif first_line.split("\t", 1)[0] in ("ham", "spam") and "\t" in first_line:
        kind = _read_sms(text, path, corpus)
    elif first_line.startswith("{"):
        kind = _read_jsonl(text, path, corpus)
    elif columns := csv_columns(first_line):
        kind = _read_generic_csv(text, path, corpus, *columns)
    else:
        raise DataFormatError(
            f"{path}: unrecognised format; expected a UCI YouTube CSV, the UCI SMSSpamCollection, "
            "a CSV or JSONL with 'text' and 'label' columns, or an export-labels file"
        )
    if not corpus:
        raise DataFormatError(f"{path}: no labelled rows")
    weight = {**DEFAULT_WEIGHTS, **(weights or {})}.get(kind, 1.0)
    corpus.weights = [weight] * len(corpus)
    corpus.files.append(
        {
            "path": path.name,
            "format": kind,
            "encoding": encoding,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "rows": len(corpus),
            "spam": sum(corpus.labels),
            "weight": weight,
        }
    )
    return corpus


def corpus_files(directory: Path) -> list[Path]:
    """The labelled files of a directory such as the data home's `uci/`, sorted: every file but Markdown notes
    and hidden files."""
    return sorted(p for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix != ".md" and not p.name.startswith("."))


def load_corpora(paths, *, weights: dict | None = None) -> Corpus:
    """Read and concatenate several corpus files.

    A directory is a label archive (read as one file) when it holds JSONL
    files or nothing at all, else a directory of corpus files (the data
    home's `uci/`), each read on its own, auxiliary formats (SMS) last, as
    `fetch-data` lists them: deduplication keeps a text's first copy, so
    `--data DIR` and `--data $(fetch-data)` train on the same examples.
    """
    corpus = Corpus()
    for path in map(Path, paths):
        files = corpus_files(path) if path.is_dir() and not any(path.glob("*.jsonl")) else []
        parts = [load_file(file, weights=weights) for file in files] or [load_file(path, weights=weights)]
        for part in sorted(parts, key=lambda part: part.files[0]["format"] in AUXILIARY_FORMATS):
            corpus.extend(part)
    return corpus


def deduplicate(corpus: Corpus) -> tuple[Corpus, int]:
    """Keep the first example of every normalised text, so no text is both trained on and tested."""
    seen: set[str] = set()
    kept = Corpus(files=list(corpus.files))
    for i, text in enumerate(corpus.texts):
        key = normalize_text(text)
        if key in seen:
            continue
        seen.add(key)
        kept.add(text, corpus.labels[i], corpus.groups[i], corpus.weights[i], corpus.kinds[i])
    return kept, len(corpus) - len(kept)


def threshold_mask(corpus: Corpus) -> list[bool]:
    """Say for every example whether it counts when thresholds are chosen (not an auxiliary format)."""
    return [group.split(":", 1)[0] not in AUXILIARY_FORMATS for group in corpus.groups]


def link_free_texts(texts: list[str], normalized: list[str]) -> list[str | None]:
    """For every text whose normalised form has a link, its normalised form without the link (what the policy
    rescores); else None."""
    return [normalize_text(text, keep_links=False) if URL_TOKEN in plain.split() else None
            for text, plain in zip(texts, normalized, strict=True)]


def fold_groups(corpus: Corpus) -> list[str]:
    """Return a cross-validation group per example: the YouTube video, or a stable slice of a pooled file.

    A video is a page of its own, held out whole, when there are others to
    train on; a single video is cut into POOL_SLICES slices, as a pooled
    file is, so that what is trained on always holds some of it (without
    it, a site's first labels alone, all ham perhaps).
    """
    whole = len({group for group in corpus.groups if group.startswith("youtube:")}) > 1
    out = []
    for text, group in zip(corpus.texts, corpus.groups, strict=True):
        if group.startswith("youtube:") and whole:
            out.append(group)
        else:
            out.append(f"{group}#{zlib.crc32(text.encode('utf-8', 'replace')) % POOL_SLICES}")
    return out
