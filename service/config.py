"""Typed settings read from the environment; the only reader of os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from model_training.features import TRUSTED_DOMAINS, read_domain_list

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
FSYNC_POLICIES = ("always", "everysec", "no")


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; see the README's configuration table."""

    redis_url: str
    embedded_redis: bool
    model_dir: Path
    data_dir: Path
    approve_below: float | None = None
    reject_at: float | None = None
    approve_unfamiliar: bool = False
    trusted_domains: frozenset = TRUSTED_DOMAINS
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    max_body_bytes: int = 256 * 1024
    request_read_seconds: int = 15
    redis_timeout: float = 0.5
    redis_fsync: str = "everysec"
    email_check_dns: bool = False
    log_level: str = "INFO"
    models_root: Path = DEFAULT_MODELS_DIR
    model_poll_seconds: float = 5.0
    keep_rejected_days: int = 30
    keep_personal_days: int = 90
    run_deliverer: bool = True
    webhook_timeout: float = 5.0
    webhook_max_attempts: int = 10
    webhook_backoff_seconds: float = 2.0
    rate_limit_ip: tuple | None = (30, 600)
    rate_limit_email: tuple | None = (30, 600)
    rate_limit_site: tuple | None = (6000, 60)
    flood_seconds: float = 15.0
    max_links: int = 2
    min_submit_seconds: float = 5.0
    duplicate_window_days: int = 7
    duplicate_reject_at: int = 3
    duplicate_min_words: int = 5
    trusted_proxies: int = 0
    require_site_key: bool = False
    lease_seconds: int = 600
    secret_key: str | None = None
    cookie_secure: bool = True

    @classmethod
    def from_env(cls, environ=None, **overrides) -> Settings:
        """Read and validate the settings; raise ConfigError naming the bad variable."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("MODERATION_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
        redis_url = env.get("MODERATION_REDIS_URL", "").strip()
        values = dict(
            redis_url=redis_url or f"unix://{data_dir / 'redis.sock'}",
            embedded_redis=not redis_url,
            model_dir=Path(env.get("MODERATION_MODEL_DIR") or env.get("MODERATION_MODELS_ROOT")
                           or DEFAULT_MODELS_DIR).resolve(),
            data_dir=data_dir,
            approve_below=_float(env, "MODERATION_APPROVE_BELOW"),
            reject_at=_float(env, "MODERATION_REJECT_AT"),
            approve_unfamiliar=_bool(env, "MODERATION_APPROVE_UNFAMILIAR"),
            trusted_domains=TRUSTED_DOMAINS | _domains(env, "MODERATION_TRUSTED_DOMAINS"),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000, 1, 65535),
            workers=_int(env, "MODERATION_WORKERS", 2, 1, 64),
            threads=_int(env, "MODERATION_THREADS", 4, 1, 64),
            max_body_bytes=_int(env, "MODERATION_MAX_BODY_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024),
            request_read_seconds=_int(env, "MODERATION_REQUEST_READ_SECONDS", 15, 1, 300),
            redis_timeout=_float(env, "MODERATION_REDIS_TIMEOUT", 0.5),
            redis_fsync=env.get("MODERATION_REDIS_FSYNC") or "everysec",
            email_check_dns=_bool(env, "MODERATION_EMAIL_CHECK_DNS"),
            log_level=(env.get("MODERATION_LOG_LEVEL") or "INFO").upper(),
            models_root=Path(env.get("MODERATION_MODELS_ROOT") or DEFAULT_MODELS_DIR).resolve(),
            model_poll_seconds=_float(env, "MODERATION_MODEL_POLL_SECONDS", 5.0),
            keep_rejected_days=_int(env, "MODERATION_RETAIN_REJECTED_DAYS", 30, 0, 3650),
            keep_personal_days=_int(env, "MODERATION_RETAIN_PERSONAL_DAYS", 90, 0, 3650),
            run_deliverer=_bool(env, "MODERATION_DELIVER_WEBHOOKS", default=True),
            webhook_timeout=_float(env, "MODERATION_WEBHOOK_TIMEOUT", 5.0),
            webhook_max_attempts=_int(env, "MODERATION_WEBHOOK_MAX_ATTEMPTS", 10, 1, 100),
            webhook_backoff_seconds=_float(env, "MODERATION_WEBHOOK_BACKOFF_SECONDS", 2.0),
            rate_limit_ip=_rate(env, "MODERATION_RATE_LIMIT_IP", (30, 600)),
            rate_limit_email=_rate(env, "MODERATION_RATE_LIMIT_EMAIL", (30, 600)),
            rate_limit_site=_rate(env, "MODERATION_RATE_LIMIT_SITE", (6000, 60)),
            flood_seconds=_float(env, "MODERATION_FLOOD_SECONDS", 15.0),
            max_links=_int(env, "MODERATION_MAX_LINKS", 2, 0, 1000),
            min_submit_seconds=_float(env, "MODERATION_MIN_SUBMIT_SECONDS", 5.0),
            duplicate_window_days=_int(env, "MODERATION_DUPLICATE_WINDOW_DAYS", 7, 1, 365),
            duplicate_reject_at=_int(env, "MODERATION_DUPLICATE_REJECT_AT", 3, 2, 1000),
            duplicate_min_words=_int(env, "MODERATION_DUPLICATE_MIN_WORDS", 5, 1, 1000),
            trusted_proxies=_int(env, "MODERATION_TRUSTED_PROXIES", 0, 0, 10),
            require_site_key=_bool(env, "MODERATION_REQUIRE_SITE_KEY"),
            lease_seconds=_int(env, "MODERATION_LEASE_SECONDS", 600, 1, 24 * 3600),
            secret_key=env.get("MODERATION_SECRET_KEY") or None,
            cookie_secure=_bool(env, "MODERATION_COOKIE_SECURE", default=True),
        )
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError if the values are inconsistent."""
        if urlsplit(self.redis_url).scheme not in REDIS_SCHEMES:
            raise ConfigError("MODERATION_REDIS_URL must start with redis://, rediss://, unix:// or redis+sentinel://")
        for name in ("approve_below", "reject_at"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"MODERATION_{name.upper()} must be between 0 and 1, got {value}")
        if self.approve_below is not None and self.reject_at is not None and self.approve_below > self.reject_at:
            raise ConfigError("MODERATION_APPROVE_BELOW must not be greater than MODERATION_REJECT_AT")
        if self.redis_timeout is None or not 0 < self.redis_timeout <= 60:
            raise ConfigError("MODERATION_REDIS_TIMEOUT must be between 0 and 60 seconds")
        if self.redis_fsync not in FSYNC_POLICIES:
            raise ConfigError(f"MODERATION_REDIS_FSYNC must be one of {', '.join(FSYNC_POLICIES)}")
        if self.model_poll_seconds is None or not 0.1 <= self.model_poll_seconds <= 3600:
            raise ConfigError("MODERATION_MODEL_POLL_SECONDS must be between 0.1 and 3600")
        if self.flood_seconds is None or not 0 <= self.flood_seconds <= 3600:
            raise ConfigError("MODERATION_FLOOD_SECONDS must be between 0 and 3600")
        if self.min_submit_seconds is None or not 0 <= self.min_submit_seconds <= 3600:
            raise ConfigError("MODERATION_MIN_SUBMIT_SECONDS must be between 0 and 3600")
        if self.webhook_timeout is None or not 0.1 <= self.webhook_timeout <= 60:
            raise ConfigError("MODERATION_WEBHOOK_TIMEOUT must be between 0.1 and 60 seconds")
        if self.webhook_backoff_seconds is None or not 0.01 <= self.webhook_backoff_seconds <= 3600:
            raise ConfigError("MODERATION_WEBHOOK_BACKOFF_SECONDS must be between 0.01 and 3600")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ConfigError("MODERATION_SECRET_KEY must be at least 32 characters")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError("MODERATION_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

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


def _float(env, name: str, default: float | None = None) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _int(env, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _rate(env, name: str, default: tuple) -> tuple | None:
    """Parse COUNT/SECONDS (e.g. 30/600); "off" or 0 disables the limit."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "off", "none"):
        return None
    count, sep, seconds = raw.partition("/")
    if sep and count.isdigit() and seconds.isdigit() and int(count) > 0 and 0 < int(seconds) <= 86400:
        return int(count), int(seconds)
    raise ConfigError(f"{name} must be COUNT/SECONDS such as 30/600, or off; got {raw!r}")


def _domains(env, name: str) -> frozenset:
    """Parse a list of domains: comma- or space-separated, or the path of a file with one list (`#` comments)."""
    raw = env.get(name, "").strip()
    if not raw:
        return frozenset()
    if raw.startswith(("/", "./")):
        try:
            return read_domain_list(Path(raw))
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read {raw} ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{name}: {raw} is not UTF-8 text") from None
    domains = frozenset(raw.lower().replace(",", " ").split())
    bad = sorted(d for d in domains if "." not in d or "/" in d)
    if bad:
        raise ConfigError(f"{name} must list domains such as lesoleil.sn, or name a file; got {', '.join(bad)}")
    return domains


def _bool(env, name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")

