"""Deployment files: the compose file validates, the Dockerfile lints, and both say what the docs say."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import PROJECT_ROOT


def run(*cmd):
    return subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("profiles", [[], ["--profile", "train", "--profile", "monitoring"]])
def test_compose_file_validates(profiles):
    result = run(shutil.which("docker-compose") or "docker-compose", *profiles, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_topology():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "api", "proxy", "trainer", "prometheus"}
    assert "--appendonly" in services["redis"]["command"] and "healthcheck" in services["redis"]
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["api"]["environment"]["MODERATION_REDIS_URL"].endswith("redis://redis:6379/0}")
    assert "ports" not in services["api"]  # reached through the proxy, so it scales with --scale api=N
    assert services["trainer"]["profiles"] == ["train"] and services["prometheus"]["profiles"] == ["monitoring"]
    assert "service retrain" in services["trainer"]["command"][0]  # gated: promotes only a better model
    assert {"redis-data", "models", "labels"} <= set(compose["volumes"])


def test_dockerfile_lints_clean():
    hadolint = Path(sys.executable).parent / "hadolint"  # installed into the venv by the test extra
    result = run(str(hadolint), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_readiness_healthcheck():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2  # multi-stage
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert "/readyz" in dockerfile and "HEALTHCHECK" in dockerfile
    assert "COPY --chown=moderation:moderation models /app/models" in dockerfile


def test_env_example_lists_every_setting_the_service_reads():
    read = set(re.findall(r'"((?:MODERATION_[A-Z_]+)|HOST|PORT)"', (PROJECT_ROOT / "service" / "config.py").read_text()))
    listed = {line.split("=", 1)[0] for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    assert read - listed == set()
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert [name for name in sorted(read) if name not in readme] == []
