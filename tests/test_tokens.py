"""API tokens: hashed storage, verification, revocation and the `tokens` command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.errors import ConflictError, NotFoundError
from service.storage import keys, tokens

from .conftest import PROJECT_ROOT


def test_created_token_verifies_and_only_its_hash_is_stored(redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    user = tokens.verify(redis_client, token)
    assert (user["name"], user["role"]) == ("awa", "moderator")
    secret = token.split(".", 1)[1]
    for key in redis_client.keys("*"):
        if redis_client.type(key) == "hash":
            assert secret not in str(redis_client.hgetall(key))


@pytest.mark.parametrize("bad", ["", "nope", "mod_abc.def", "mod_0123456789abcdef.wrongsecretwrongsecret"])
def test_wrong_tokens_do_not_verify(redis_client, bad):
    tokens.create(redis_client, "awa", "moderator")
    assert tokens.verify(redis_client, bad) is None


def test_a_token_with_the_right_id_and_a_wrong_secret_fails(redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    assert tokens.verify(redis_client, token[:-3] + "xyz") is None


def test_one_token_per_name_unless_replaced(redis_client):
    first = tokens.create(redis_client, "awa", "moderator")
    with pytest.raises(ConflictError):
        tokens.create(redis_client, "awa", "admin")
    second = tokens.create(redis_client, "awa", "admin", replace=True)
    assert tokens.verify(redis_client, first) is None
    assert tokens.verify(redis_client, second)["role"] == "admin"


def test_revoked_token_stops_working(redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    tokens.revoke(redis_client, "awa")
    assert tokens.verify(redis_client, token) is None
    assert redis_client.hlen(keys.token_names()) == 0
    with pytest.raises(NotFoundError):
        tokens.revoke(redis_client, "awa")


@pytest.mark.parametrize(("name", "role"), [("awa", "boss"), ("a b", "moderator"), ("", "admin")])
def test_bad_name_or_role_is_refused(redis_client, name, role):
    with pytest.raises(ValueError):
        tokens.create(redis_client, name, role)


def run_cli(redis_server, *args):
    env = {**os.environ, "MODERATION_REDIS_URL": redis_server.url}
    return subprocess.run([sys.executable, "-m", "service", "tokens", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_prints_the_token_alone_on_stdout_and_lists_and_revokes(redis_server, redis_client):
    created = run_cli(redis_server, "create", "--name", "awa", "--role", "admin")
    assert created.returncode == 0
    token = created.stdout.strip()
    assert created.stdout == token + "\n"
    assert created.stderr.strip().endswith("created an admin token for awa; it is shown only once")
    assert tokens.verify(redis_client, token)["role"] == "admin"
    listed = run_cli(redis_server, "list")
    assert listed.stdout.startswith("awa\tadmin\t")
    assert token not in listed.stdout
    assert run_cli(redis_server, "revoke", "awa").returncode == 0
    assert tokens.verify(redis_client, token) is None


def test_cli_errors_are_clear(redis_server, redis_client):
    run_cli(redis_server, "create", "--name", "awa", "--role", "moderator")
    again = run_cli(redis_server, "create", "--name", "awa", "--role", "moderator")
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr.strip() == "error: 'awa' already has a token; revoke it first or use --replace"
    missing = run_cli(redis_server, "revoke", "nobody")
    assert missing.stderr.strip() == "error: 'nobody' has no token"


def test_both_command_lines_say_the_same_when_redis_is_down(tmp_path):
    env = {**os.environ, "MODERATION_REDIS_URL": f"unix://{tmp_path}/nothing.sock"}
    service = subprocess.run([sys.executable, "-m", "service", "tokens", "list"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    training = subprocess.run([sys.executable, "-m", "model_training", "rollback"], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    hint = "start the service with `make run` (it runs its own Redis) or set MODERATION_REDIS_URL."
    for result in (service, training):
        assert result.returncode == 2
        assert result.stderr.strip().startswith("error: Redis is not reachable (")
        assert result.stderr.strip().endswith(hint)


def test_a_process_remembers_a_verified_token_and_hands_back_the_check_redis_must_confirm(redis_client):
    token = tokens.create(redis_client, "journal", "site")
    verified = tokens.VerifiedTokens(redis_client)
    user, check = verified.verify(token)
    assert (user["name"], user["role"], check) == ("journal", "site", None)  # looked up just now
    again, check = verified.verify(token)
    assert again == user
    assert redis_client.hget(check.key, "sha256") == check.sha256  # what the admission script compares
    assert verified.verify(token[:-3] + "xyz") is None  # a wrong secret is never answered from memory
    tokens.revoke(redis_client, "journal")
    assert verified.verify(token)[1] is not None  # still remembered: the caller's script call refuses it
    verified.forget(check)
    assert verified.verify(token) is None  # forgotten, looked up again, and gone


def test_remembered_tokens_are_bounded(redis_client):
    verified = tokens.VerifiedTokens(redis_client, size=2)
    issued = [tokens.create(redis_client, f"site{i}", "site") for i in range(3)]
    for token in issued:
        verified.verify(token)
    assert verified.verify(issued[2])[1] is not None and verified.verify(issued[0])[1] is None
