"""`fetch-data`: the public corpora in the data home, downloaded from their publisher and verified.

Each file is pinned by the sha256 of its bytes with every U+FEFF removed: the
originals carry stray ones, which copies (such as the team's `shared/data`)
may have removed, and nothing reads them. Downloaded files are written
without them. A data home that already holds matching files is used as is,
and nothing is downloaded. The French corpus is shipped in the project
(`data/`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import TrainingError

UCI = "uci"


@dataclass(frozen=True)
class Archive:
    """One archive a publisher distributes, and the files kept from it with their pinned sha256."""

    url: str
    files: dict  # name inside the archive (any folder) -> sha256 of its bytes with every U+FEFF removed


ARCHIVES = (
    # T. C. Alberto, J. V. Lochter, T. A. Almeida, "TubeSpam", ICMLA 2015. UCI dataset 380, CC BY 4.0.
    Archive("https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip", {
        "Youtube01-Psy.csv": "4e7fb6e26ba74bf2cee044a17d2cd846021fddcf33fcfa9d0acd62c5d438c841",
        "Youtube02-KatyPerry.csv": "382736d8f662dec4a5703ed03f62076bc454b763a6f41a5911e04f0e09a332bc",
        "Youtube03-LMFAO.csv": "5149fb25b2f71486bf34d826e05f6e1ad4c76034b29c1b188b78ad5538027f60",
        "Youtube04-Eminem.csv": "d7ea07f2d5b58cbad26bae0ced4057f510dfa0f4c423508413dff586d8a3a6b4",
        "Youtube05-Shakira.csv": "bb671e5a4da8f8e1cc655b47e43b3d6c4031fae7999cf53cb80efe91422e45e7",
    }),
    # T. A. Almeida, J. M. Gómez Hidalgo, A. Yamakami, DocEng 2011. UCI dataset 228, CC BY 4.0.
    Archive("https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip", {
        "SMSSpamCollection": "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
    }),
)
BOM = "\ufeff".encode()
TIMEOUT_SECONDS = 60


def data_home(environ=os.environ) -> Path:
    """MODERATION_DATA_HOME, else the user's cache directory (XDG_CACHE_HOME or ~/.cache)/comment-moderation."""
    if environ.get("MODERATION_DATA_HOME"):
        return Path(environ["MODERATION_DATA_HOME"]).expanduser()
    cache = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return cache / "comment-moderation"


def _sha256(data: bytes) -> str:
    """The pinned digest: sha256 of the bytes without any U+FEFF."""
    return hashlib.sha256(data.replace(BOM, b"")).hexdigest()


def _verified(path: Path, expected: str) -> bool:
    return path.is_file() and _sha256(path.read_bytes()) == expected


def fetch(home: Path, *, log=print, archives=ARCHIVES) -> list[Path]:
    """Make sure every public corpus is in `home/uci`, downloading only what is missing; return their paths."""
    target = Path(home) / UCI
    paths = []
    for archive in archives:
        wanted = {name: target / name for name in archive.files}
        missing = [name for name, path in wanted.items() if not _verified(path, archive.files[name])]
        if missing:
            log(f"downloading {archive.url}")
            _install(_download(archive.url), archive, missing, target)
        paths += wanted.values()
    return paths


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.read()
    except OSError as exc:
        raise TrainingError(f"cannot download {url} ({exc}); copy the files into the data home instead "
                            "(see `fetch-data --help`)") from exc


def _install(payload: bytes, archive: Archive, names: list[str], target: Path) -> None:
    try:
        members = {Path(info.filename).name: info for info in zipfile.ZipFile(io.BytesIO(payload)).infolist()
                   if not info.is_dir()}
        bundle = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile as exc:
        raise TrainingError(f"{archive.url} is not a zip archive ({exc})") from exc
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name not in members:
            raise TrainingError(f"{archive.url} does not hold {name}")
        data = bundle.read(members[name]).replace(BOM, b"")
        if _sha256(data) != archive.files[name]:
            raise TrainingError(f"{name} from {archive.url} does not match its pinned sha256 "
                                f"({_sha256(data)} instead of {archive.files[name]}); refusing to use it")
        # Written next to its final place, then renamed: a reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=target, delete=False) as tmp:
            tmp.write(data)
        shutil.move(tmp.name, target / name)
