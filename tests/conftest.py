"""Shared fixtures: one real redis-server for the session, the shipped model, the app and its client."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from model_training.data import corpus_files, load_corpora
from service.app import create_app
from service.config import DEFAULT_MODELS_DIR
from service.storage.server import RedisServer, free_port  # noqa: F401 - tests import it from here

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The public corpora, in the data home (`python -m model_training fetch-data`); on the team's machines and in
# CI it is ../shared/data, where nothing needs downloading.
DATA_DIR = Path(os.environ.get("MODERATION_DATA_HOME") or PROJECT_ROOT.parent / "shared" / "data") / "uci"
# Written for this project and shipped with it.
FRENCH_CORPUS = PROJECT_ROOT / "data" / "fr_news_comments.csv"


def wait_for(url: str, timeout: float = 30.0) -> bytes:
    """GET a URL until it answers 2xx; return the body."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def running_service(**env):
    """Run `python -m service serve` (gunicorn) with these environment variables; yield its base URL."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != "MODERATION_MODEL_DIR"}
    # As in the `config` fixture: these tests send many comments from one address; tests/test_abuse.py tests limits.
    environ.update({"MODERATION_FLOOD_SECONDS": "0", "MODERATION_RATE_LIMIT_IP": "off", "MODERATION_RATE_LIMIT_EMAIL": "off"})
    environ.update({"PORT": str(port), **{k: str(v) for k, v in env.items()}})
    process = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=PROJECT_ROOT, env=environ,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/readyz")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def gunicorn_master(base: str) -> int:
    """The pid of the gunicorn master serving `base` (a URL of running_service)."""
    port = base.rsplit(":", 1)[1]
    return int(subprocess.run(["pgrep", "-f", f"gunicorn --bind 127.0.0.1:{port}"], capture_output=True, text=True,
                              check=True).stdout.split()[0])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A throw-away redis-server on a free port, for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), port=free_port(), persistent=False).start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server):
    """A client on a freshly emptied database."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def config(redis_server, tmp_path_factory) -> dict:
    """Settings overrides every test app gets: the session's Redis, the shipped model."""
    return {"redis_url": redis_server.url, "embedded_redis": False, "model_dir": DEFAULT_MODELS_DIR,
            "data_dir": tmp_path_factory.mktemp("data"),
            # The abuse rules that count submissions are off here; tests/test_abuse.py turns them on.
            "flood_seconds": 0, "rate_limit_ip": None, "rate_limit_email": None, "rate_limit_site": None,
            # Webhook tests drive the deliverer themselves; the process-level tests run it in the service.
            "run_deliverer": False}


@pytest.fixture(scope="session")
def default_app(config):
    """The app built by the real factory with default settings, shared by the session."""
    return create_app(config)


@pytest.fixture
def app(default_app, redis_client):
    """The default app, in front of an emptied database (and no list cached from an earlier test)."""
    default_app.extensions["moderation"].guard.lists.invalidate()
    return default_app


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture(scope="session")
def uci_data() -> Path:
    """The UCI corpora in the data home's uci/ (../shared/data/uci on every development and CI machine)."""
    assert (DATA_DIR / "SMSSpamCollection").is_file(), f"corpora not found in {DATA_DIR}"
    return DATA_DIR


@pytest.fixture(scope="session")
def corpus_texts(uci_data) -> list[str]:
    """Every text of the UCI corpora, then every text of the French corpus: what equivalence tests run on."""
    texts = list(load_corpora(corpus_files(uci_data)).texts)
    with FRENCH_CORPUS.open(encoding="utf-8") as f:
        return texts + [row["text"] for row in csv.DictReader(f)]


def bearer(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def moderator(redis_client) -> dict:
    """Headers of a moderator named awa."""
    from service.storage import tokens
    return bearer(tokens.create(redis_client, "awa", "moderator"))


@pytest.fixture
def moderator2(redis_client) -> dict:
    """Headers of a second moderator named binta."""
    from service.storage import tokens
    return bearer(tokens.create(redis_client, "binta", "moderator"))


@pytest.fixture
def admin(redis_client) -> dict:
    """Headers of an admin named chef."""
    from service.storage import tokens
    return bearer(tokens.create(redis_client, "chef", "admin"))
