"""Settings.from_env: defaults, parsing and fail-fast validation."""

from __future__ import annotations

from dataclasses import fields

import pytest

from model_training.features import TRUSTED_DOMAINS
from service.config import DEFAULT_DATA_DIR, DEFAULT_MODELS_DIR, Settings
from service.errors import ConfigError


def test_defaults_use_embedded_redis_socket_and_shipped_model():
    settings = Settings.from_env({})
    assert settings.embedded_redis is True
    assert settings.redis_url == f"unix://{DEFAULT_DATA_DIR / 'redis.sock'}"
    assert settings.model_dir == DEFAULT_MODELS_DIR
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.approve_below is None and settings.reject_at is None
    assert settings.email_check_dns is False


def test_values_are_read_from_the_environment(tmp_path):
    settings = Settings.from_env({
        "MODERATION_REDIS_URL": "redis://:s3cret@redis.internal:6380/2",
        "MODERATION_MODEL_DIR": str(tmp_path),
        "MODERATION_APPROVE_BELOW": "0.2",
        "MODERATION_REJECT_AT": "0.9",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "MODERATION_EMAIL_CHECK_DNS": "yes",
    })
    assert settings.embedded_redis is False
    assert settings.model_dir == tmp_path
    assert (settings.approve_below, settings.reject_at) == (0.2, 0.9)
    assert (settings.host, settings.port, settings.email_check_dns) == ("0.0.0.0", 9000, True)


def test_trusted_domains_extend_the_shipped_list_from_a_list_or_a_file(tmp_path):
    listed = Settings.from_env({"MODERATION_TRUSTED_DOMAINS": "Mon-Journal.sn, lesoleil.sn autre.ci"})
    assert {"mon-journal.sn", "autre.ci", "rfi.fr"} <= listed.trusted_domains
    path = tmp_path / "trusted.txt"
    path.write_text("# our sites\nmon-journal.sn\nradio-locale.ml  # the sister radio\n")
    from_file = Settings.from_env({"MODERATION_TRUSTED_DOMAINS": str(path)})
    assert {"mon-journal.sn", "radio-locale.ml", "bbc.com"} <= from_file.trusted_domains
    assert Settings.from_env({}).trusted_domains == TRUSTED_DOMAINS


def test_masked_settings_hide_the_redis_password():
    masked = Settings.from_env({"MODERATION_REDIS_URL": "redis://user:s3cret@redis.internal:6380/2"}).masked()
    assert masked["redis_url"] == "redis://user:***@redis.internal:6380/2"
    assert "s3cret" not in str(masked)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODERATION_REDIS_URL": "http://x"},
         "MODERATION_REDIS_URL must start with redis://, rediss://, unix:// or redis+sentinel://"),
        ({"MODERATION_APPROVE_BELOW": "abc"}, "MODERATION_APPROVE_BELOW must be a number, got 'abc'"),
        ({"MODERATION_REJECT_AT": "1.5"}, "MODERATION_REJECT_AT must be between 0 and 1, got 1.5"),
        ({"MODERATION_APPROVE_BELOW": "0.8", "MODERATION_REJECT_AT": "0.5"},
         "MODERATION_APPROVE_BELOW must not be greater than MODERATION_REJECT_AT"),
        ({"PORT": "http"}, "PORT must be a whole number, got 'http'"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, got 70000"),
        ({"MODERATION_EMAIL_CHECK_DNS": "maybe"}, "MODERATION_EMAIL_CHECK_DNS must be true or false, got 'maybe'"),
        ({"MODERATION_REDIS_FSYNC": "sometimes"},
         "MODERATION_REDIS_FSYNC must be one of always, everysec, no, got 'sometimes'"),
        ({"MODERATION_REDIS_TIMEOUT": "0"}, "MODERATION_REDIS_TIMEOUT must be between 0.01 and 60 s, got 0"),
        ({"MODERATION_LOG_LEVEL": "loud"}, "MODERATION_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
        ({"MODERATION_TRUSTED_DOMAINS": "lesoleil.sn, https://x.sn/a, localhost"},
         "MODERATION_TRUSTED_DOMAINS must list domains such as lesoleil.sn, or name a file; got https://x.sn/a, localhost"),
        ({"MODERATION_TRUSTED_DOMAINS": "/nonexistent/trusted.txt"},
         "MODERATION_TRUSTED_DOMAINS: cannot read /nonexistent/trusted.txt (No such file or directory)"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(env, message):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert info.value.detail == message


def test_values_given_directly_are_checked_against_the_same_table():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({}, flood_seconds=-1)
    assert info.value.detail == "MODERATION_FLOOD_SECONDS must be between 0 and 3600 s, got -1"
    assert Settings.from_env({}, flood_seconds=0).flood_seconds == 0


def test_every_setting_reads_its_own_variable_with_its_default():
    settings = Settings.from_env({})
    variables = [f.metadata["env"] for f in fields(Settings) if f.metadata]
    assert len(variables) == len(set(variables)) == len(fields(Settings)) - 4  # the four derived ones aside
    for f in fields(Settings):
        if f.metadata:
            # The label archive defaults to a directory of the data directory, which has its own variable.
            default = settings.data_dir / "labels" if f.name == "labels_dir" else f.default
            assert getattr(settings, f.name) == default


def test_retention_and_label_archive_settings(tmp_path):
    settings = Settings.from_env({"MODERATION_DATA_DIR": str(tmp_path), "MODERATION_RETAIN_DECIDED_DAYS": "7"})
    assert settings.labels_dir == tmp_path / "labels"
    assert settings.expire_ms == {"approved": 7 * 86_400_000, "rejected": 7 * 86_400_000}
    settings = Settings.from_env({"MODERATION_LABELS_DIR": str(tmp_path / "archive"),
                                  "MODERATION_RETAIN_REJECTED_DAYS": "2", "MODERATION_RETAIN_DECIDED_DAYS": "0"})
    assert settings.labels_dir == tmp_path / "archive"
    assert settings.expire_ms == {"approved": 0, "rejected": 2 * 86_400_000}
