"""The workflow package is pure: standard library and itself only, no web or database code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import service.workflow


@pytest.fixture(autouse=True)
def clean_tables():
    """These tests touch no database: nothing to empty after each (overrides conftest's)."""
    yield


PACKAGE_DIR = Path(service.workflow.__file__).resolve().parent
PACKAGE = "service.workflow"
FORBIDDEN = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "pydantic", "pydantic_core",
             "pydantic_settings", "jose", "pwdlib", "httpx", "psycopg", "alembic"}
FILES = sorted(PACKAGE_DIR.rglob("*.py"))


def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([PACKAGE, *parts])


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every imported module of the file (or of `source` as if it were that file),
    made absolute, with its line number."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    module = _module_of(path)
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            found.append((node.lineno, "<dynamic __import__>"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module"):
            found.append((node.lineno, "<dynamic importlib.import_module>"))
    return found


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top in FORBIDDEN:
        return False
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        return True
    return top in sys.stdlib_module_names or top == "__future__"


def test_the_package_has_files():
    names = {p.name for p in FILES}
    assert {"__init__.py", "engine.py", "table.py", "guards.py", "roles.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_imports_only_stdlib_and_itself(path):
    bad = [(line, name) for line, name in _imports(path) if not _allowed(name)]
    assert not bad, f"{path.name} imports outside the stdlib and {PACKAGE}: {bad}"


def test_the_checker_can_fail():
    """The checker itself catches the imports it must refuse."""
    source = ("import fastapi\nfrom sqlmodel import Session\nfrom .. import db\n"
              "from pydantic.fields import Field\nimport json\nfrom . import guards\n"
              "from .engine import Guard\nimport requests\n")
    found = _imports(PACKAGE_DIR / "engine.py", source)
    assert [n for _, n in found] == [
        "fastapi", "sqlmodel", "service", "pydantic.fields", "json", "service.workflow",
        "service.workflow.engine", "requests",
    ]
    assert [n for _, n in found if not _allowed(n)] == [
        "fastapi", "sqlmodel", "service", "pydantic.fields", "requests",
    ]
