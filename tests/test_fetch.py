"""fetch-data: public corpora downloaded once from a (loopback) publisher, verified, and reused."""

from __future__ import annotations

import dataclasses
import http.server
import io
import threading
import zipfile

import pytest

from model_training.__main__ import main
from model_training.errors import TrainingError
from model_training.fetch import ARCHIVES, data_home, fetch

from .conftest import DATA_DIR


@pytest.fixture
def publisher():
    """A loopback web server publishing zips of the corpora as UCI does (folders, a readme, stray U+FEFF)."""
    served: dict[str, bytes] = {}
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    archives = []
    for i, archive in enumerate(ARCHIVES):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("collection/readme.txt", "About this collection.")
            for name in archive.files:
                original = (DATA_DIR / name).read_bytes()
                bundle.writestr(f"collection/{name}", "\ufeff".encode() + original)  # as the originals have
        served[f"/archive{i}.zip"] = buffer.getvalue()
        archives.append(dataclasses.replace(archive, url=f"{base}/archive{i}.zip"))
    yield archives, served, requests
    server.shutdown()
    server.server_close()


def test_corpora_are_downloaded_verified_and_reused(tmp_path, publisher):
    archives, _, requests = publisher
    paths = fetch(tmp_path, archives=archives, log=lambda _: None)
    assert [p.name for p in paths] == [name for a in ARCHIVES for name in a.files]
    bom = "\ufeff".encode()
    assert all(p.read_bytes() == (DATA_DIR / p.name).read_bytes().replace(bom, b"") for p in paths)
    assert len(requests) == 2
    assert fetch(tmp_path, archives=archives, log=lambda _: None) == paths
    assert len(requests) == 2  # nothing downloaded again
    (tmp_path / "uci" / "SMSSpamCollection").write_text("ham\tedited\n")
    fetch(tmp_path, archives=archives, log=lambda _: None)
    assert len(requests) == 3  # a file that no longer matches is fetched again


def test_a_file_that_does_not_match_its_pin_is_refused_and_not_written(tmp_path, publisher):
    archives, served, _ = publisher
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("SMSSpamCollection", "spam\tWIN a prize now\n")
    served["/archive1.zip"] = buffer.getvalue()
    with pytest.raises(TrainingError, match="SMSSpamCollection from .* does not match its pinned sha256"):
        fetch(tmp_path, archives=archives[1:], log=lambda _: None)
    assert not (tmp_path / "uci" / "SMSSpamCollection").exists()


def test_the_teams_data_home_is_used_as_is_and_printed(capsys, monkeypatch):
    monkeypatch.setenv("MODERATION_DATA_HOME", str(DATA_DIR.parent))
    assert data_home() == DATA_DIR.parent
    assert main(["fetch-data"]) == 0  # no network is needed: the files are verified where they are
    printed = capsys.readouterr().out.split()
    assert printed == [str(DATA_DIR / name) for a in ARCHIVES for name in a.files]


def test_the_default_data_home_is_in_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MODERATION_DATA_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_home() == tmp_path / "comment-moderation"
