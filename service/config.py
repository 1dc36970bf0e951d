"""Typed settings read from the environment; the only reader of os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from model_training.domains import TRUSTED_DOMAINS, read_domain_list

from . import clock
from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
FSYNC_POLICIES = ("always", "everysec", "no")


def setting(env: str, default, kind: str = "text", *, low=None, high=None, unit: str = "", choices=None):
    """A field of Settings with its variable, default, kind of value and allowed range: the one table of settings."""
    return field(default=default, metadata={"env": env, "kind": kind, "low": low, "high": high, "unit": unit,
                                            "choices": choices})


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; see the README's configuration table.

    The first four are derived together from MODERATION_REDIS_URL, MODERATION_DATA_DIR and
    MODERATION_MODEL_DIR; every other field names its variable, default and range once, below.
    """

    redis_url: str
    embedded_redis: bool
    model_dir: Path
    data_dir: Path
    approve_below: float | None = setting("MODERATION_APPROVE_BELOW", None, "float", low=0, high=1)
    reject_at: float | None = setting("MODERATION_REJECT_AT", None, "float", low=0, high=1)
    approve_unfamiliar: bool = setting("MODERATION_APPROVE_UNFAMILIAR", False, "bool")
    trusted_domains: frozenset = setting("MODERATION_TRUSTED_DOMAINS", TRUSTED_DOMAINS, "domains")
    host: str = setting("HOST", "127.0.0.1")
    port: int = setting("PORT", 8000, "int", low=1, high=65535)
    workers: int = setting("MODERATION_WORKERS", 2, "int", low=1, high=64)
    threads: int = setting("MODERATION_THREADS", 2, "int", low=1, high=64)
    score_helpers: int = setting("MODERATION_SCORE_HELPERS", 1, "int", low=0, high=64)
    max_body_bytes: int = setting("MODERATION_MAX_BODY_BYTES", 256 * 1024, "int", low=1024, high=64 * 1024 * 1024)
    request_read_seconds: int = setting("MODERATION_REQUEST_READ_SECONDS", 15, "int", low=1, high=300, unit=" s")
    redis_timeout: float = setting("MODERATION_REDIS_TIMEOUT", 0.5, "float", low=0.01, high=60, unit=" s")
    redis_fsync: str = setting("MODERATION_REDIS_FSYNC", "everysec", choices=FSYNC_POLICIES)
    email_check_dns: bool = setting("MODERATION_EMAIL_CHECK_DNS", False, "bool")
    log_level: str = setting("MODERATION_LOG_LEVEL", "INFO", "upper", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    models_root: Path = setting("MODERATION_MODELS_ROOT", DEFAULT_MODELS_DIR, "path")
    model_poll_seconds: float = setting("MODERATION_MODEL_POLL_SECONDS", 5.0, "float", low=0.1, high=3600, unit=" s")
    retain_decided_days: int = setting("MODERATION_RETAIN_DECIDED_DAYS", 30, "int", low=0, high=3650)
    keep_rejected_days: int | None = setting("MODERATION_RETAIN_REJECTED_DAYS", None, "int", low=0, high=3650)
    labels_dir: Path | None = setting("MODERATION_LABELS_DIR", None, "path")  # None: DATA_DIR/labels
    keep_personal_days: int = setting("MODERATION_RETAIN_PERSONAL_DAYS", 90, "int", low=0, high=3650)
    run_deliverer: bool = setting("MODERATION_DELIVER_WEBHOOKS", True, "bool")
    webhook_timeout: float = setting("MODERATION_WEBHOOK_TIMEOUT", 5.0, "float", low=0.1, high=60, unit=" s")
    webhook_max_attempts: int = setting("MODERATION_WEBHOOK_MAX_ATTEMPTS", 10, "int", low=1, high=100)
    webhook_backoff_seconds: float = setting("MODERATION_WEBHOOK_BACKOFF_SECONDS", 2.0, "float", low=0.01,
                                             high=3600, unit=" s")
    rate_limit_ip: tuple | None = setting("MODERATION_RATE_LIMIT_IP", (30, 600), "rate")
    rate_limit_email: tuple | None = setting("MODERATION_RATE_LIMIT_EMAIL", (30, 600), "rate")
    rate_limit_site: tuple | None = setting("MODERATION_RATE_LIMIT_SITE", (6000, 60), "rate")
    flood_seconds: float = setting("MODERATION_FLOOD_SECONDS", 15.0, "float", low=0, high=3600, unit=" s")
    max_links: int = setting("MODERATION_MAX_LINKS", 2, "int", low=0, high=1000)
    min_submit_seconds: float = setting("MODERATION_MIN_SUBMIT_SECONDS", 5.0, "float", low=0, high=3600, unit=" s")
    duplicate_window_days: int = setting("MODERATION_DUPLICATE_WINDOW_DAYS", 7, "int", low=1, high=365)
    duplicate_reject_at: int = setting("MODERATION_DUPLICATE_REJECT_AT", 3, "int", low=2, high=1000)
    duplicate_min_words: int = setting("MODERATION_DUPLICATE_MIN_WORDS", 5, "int", low=1, high=1000)
    trusted_proxies: int = setting("MODERATION_TRUSTED_PROXIES", 0, "int", low=0, high=10)
    require_site_key: bool = setting("MODERATION_REQUIRE_SITE_KEY", False, "bool")
    lease_seconds: int = setting("MODERATION_LEASE_SECONDS", 600, "int", low=1, high=24 * 3600)
    secret_key: str | None = setting("MODERATION_SECRET_KEY", None)
    cookie_secure: bool = setting("MODERATION_COOKIE_SECURE", True, "bool")
    ui_language: str = setting("MODERATION_UI_LANGUAGE", "fr", "lower", choices=("fr", "en", "auto"))
    ui_timezone: str = setting("MODERATION_UI_TIMEZONE", "UTC", "timezone")

    @classmethod
    def from_env(cls, environ=None, **overrides) -> Settings:
        """Read and validate the settings; raise ConfigError naming the bad variable."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("MODERATION_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
        redis_url = env.get("MODERATION_REDIS_URL", "").strip()
        values = {
            "redis_url": redis_url or f"unix://{data_dir / 'redis.sock'}",
            "embedded_redis": not redis_url,
            "model_dir": Path(env.get("MODERATION_MODEL_DIR") or env.get("MODERATION_MODELS_ROOT")
                              or DEFAULT_MODELS_DIR).resolve(),
            "data_dir": data_dir,
        }
        for f in fields(cls):
            if f.metadata:
                raw = env.get(f.metadata["env"], "").strip()
                values[f.name] = PARSERS[f.metadata["kind"]](raw, f.metadata["env"], f.default) if raw else f.default
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError if a value is out of its range, not one of its choices, or inconsistent with another."""
        if urlsplit(self.redis_url).scheme not in REDIS_SCHEMES:
            raise ConfigError("MODERATION_REDIS_URL must start with redis://, rediss://, unix:// or redis+sentinel://")
        for f in fields(self):
            meta, value = f.metadata, getattr(self, f.name)
            if meta.get("low") is not None and value is not None and not meta["low"] <= value <= meta["high"]:
                raise ConfigError(f"{meta['env']} must be between {meta['low']:g} and {meta['high']:g}{meta['unit']}, "
                                  f"got {value:g}")
            if meta.get("choices") and value not in meta["choices"]:
                raise ConfigError(f"{meta['env']} must be one of {', '.join(meta['choices'])}, got {value!r}")
        if self.approve_below is not None and self.reject_at is not None and self.approve_below > self.reject_at:
            raise ConfigError("MODERATION_APPROVE_BELOW must not be greater than MODERATION_REJECT_AT")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ConfigError("MODERATION_SECRET_KEY must be at least 32 characters")

    def __post_init__(self):
        if self.labels_dir is None:
            object.__setattr__(self, "labels_dir", self.data_dir / "labels")

    @property
    def expire_ms(self) -> dict[str, int]:
        """How long Redis keeps a comment of each decided status, in ms (0: for good); pending ones stay."""
        rejected = self.retain_decided_days if self.keep_rejected_days is None else self.keep_rejected_days
        return {"approved": self.retain_decided_days * clock.DAY_MS, "rejected": rejected * clock.DAY_MS}

    def masked(self) -> dict:
        """Return the settings as a dict fit for logging: the Redis password is hidden."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.secret_key:
            out["secret_key"] = "***"
        parts = urlsplit(self.redis_url)
        if "@" in parts.netloc:
            credentials, hosts = parts.netloc.rsplit("@", 1)
            user = credentials.split(":", 1)[0] if ":" in credentials else ""
            out["redis_url"] = urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))
        out["trusted_domains"] = len(self.trusted_domains)
        return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}


def _float(raw: str, name: str, default=None) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _int(raw: str, name: str, default=None) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _rate(raw: str, name: str, default=None) -> tuple | None:
    """Parse COUNT/SECONDS (e.g. 30/600); "off" or 0 disables the limit."""
    raw = raw.lower()
    if raw in ("0", "off", "none"):
        return None
    count, sep, seconds = raw.partition("/")
    if sep and count.isdigit() and seconds.isdigit() and int(count) > 0 and 0 < int(seconds) <= 86400:
        return int(count), int(seconds)
    raise ConfigError(f"{name} must be COUNT/SECONDS such as 30/600, or off; got {raw!r}")


def _domains(raw: str, name: str, default: frozenset) -> frozenset:
    """Add to the default list: comma- or space-separated domains, or the path of a file with one list (`#` comments)."""
    if raw.startswith(("/", "./")):
        try:
            return default | read_domain_list(Path(raw))
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read {raw} ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{name}: {raw} is not UTF-8 text") from None
    domains = frozenset(raw.lower().replace(",", " ").split())
    bad = sorted(d for d in domains if "." not in d or "/" in d)
    if bad:
        raise ConfigError(f"{name} must list domains such as lesoleil.sn, or name a file; got {', '.join(bad)}")
    return default | domains


def _timezone(raw: str, name: str, default=None) -> str:
    """An IANA time zone name such as Africa/Dakar."""
    try:
        ZoneInfo(raw)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{name} must be a time zone such as Africa/Abidjan or UTC, got {raw!r}") from None
    return raw


def _bool(raw: str, name: str, default=None) -> bool:
    raw = raw.lower()
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


PARSERS = {
    "text": lambda raw, name, default: raw,
    "upper": lambda raw, name, default: raw.upper(),
    "lower": lambda raw, name, default: raw.lower(),
    "timezone": _timezone,
    "path": lambda raw, name, default: Path(raw).resolve(),
    "float": _float,
    "int": _int,
    "rate": _rate,
    "domains": _domains,
    "bool": _bool,
}
