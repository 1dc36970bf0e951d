"""What the plain install of `make run` provides is enough for every command: no import hides in a test extra."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWN = {"service", "model_training"}


def imported_top_level_modules() -> set[str]:
    """Every absolute import in the runtime packages, by top-level name."""
    names = set()
    for package in OWN:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - OWN - set(sys.stdlib_module_names) - {"__future__"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure() -> set[str]:
    """The distributions the project's runtime dependencies bring, recursively, extras and markers aside."""
    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in declared]
    seen: set[str] = set()
    while todo:
        name = canonical(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a platform-specific dependency not installed here
        todo += [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    return seen


def test_every_third_party_import_comes_from_a_runtime_dependency():
    providers = metadata.packages_distributions()
    closure = runtime_closure()
    missing = {module: providers.get(module) for module in imported_top_level_modules()
               if not {canonical(d) for d in providers.get(module, [])} & closure}
    assert missing == {}


COMMAND_RE = re.compile(r"\.venv/bin/python -m (service|model_training)((?: [a-z][a-z-]*)+)")
DOCUMENTS = ["README.md", "docs/operations.md", "docs/security.md", "models/MODEL_CARD.md"]


def documented_commands() -> set[tuple[str, ...]]:
    """Every `.venv/bin/python -m PACKAGE COMMAND [SUBCOMMAND]` the documentation tells a person to run."""
    found = set()
    for name in DOCUMENTS:
        for package, words in COMMAND_RE.findall((PROJECT_ROOT / name).read_text()):
            found.add((package, *words.split()[:2]))
    return found


def test_every_documented_command_exists_and_starts():
    commands = documented_commands()
    assert ("model_training", "fetch-data") in commands and ("service", "tokens", "create") in commands
    for package, *words in sorted(commands):
        result = subprocess.run([sys.executable, "-m", package, *words, "--help"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0 and len(words) == 2:  # the second word was an argument, not a sub-command
            result = subprocess.run([sys.executable, "-m", package, words[0], "--help"], cwd=PROJECT_ROOT,
                                    capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (package, words, result.stderr)
        assert result.stdout.startswith("usage: python -m ")


def test_no_view_holds_a_redis_client_or_the_queue():
    used = []
    for path in (PROJECT_ROOT / "service" / "api").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("redis", "queue"):
                used.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert used == []
