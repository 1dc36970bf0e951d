"""What the plain install of `make run` provides is enough for every command: no import hides in a test extra."""

from __future__ import annotations

import ast
import re
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
