"""The package's shape as rules: which modules may import which (read from the source, not run)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "forum"
AREAS = {
    "api",
    "auth",
    "feeds",
    "members",
    "moderation",
    "notifications",
    "reputation",
    "search",
    "threads",
}
# forum/ level pieces every area may use; they use no area themselves.
SHARED = {
    "audit",
    "database",
    "errors",
    "extensions",
    "forms",
    "links",
    "lookups",
    "markup",
    "models",
    "names",
    "permissions",
    "spam",
    "text",
    "timezones",
}


def imports_of(path: Path) -> list[str]:
    """Every forum module a file imports, at the top or inside a function."""
    return [name for name in all_imports_of(path) if name.split(".")[0] == "forum"]


def all_imports_of(path: Path) -> list[str]:
    """Every module (and imported name) a file imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def sources() -> list[tuple[tuple[str, ...], list[str]]]:
    return [
        (path.relative_to(PACKAGE).with_suffix("").parts, imports_of(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def area_of(parts: tuple[str, ...]) -> str | None:
    return parts[0] if parts[0] in AREAS else None


def test_the_import_reader_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from forum.threads import views\n")
    assert "forum.threads.views" in imports_of(module)


def test_only_the_app_factory_imports_a_views_module():
    offenders = [
        (".".join(parts), name)
        for parts, names in sources()
        for name in names
        if name.endswith(".views") and parts != ("__init__",)
    ]
    assert offenders == []


def test_no_area_imports_another_areas_forms():
    offenders = [
        (".".join(parts), name)
        for parts, names in sources()
        for name in names
        if name.split(".")[1:2]
        and name.split(".")[1] in AREAS
        and name.split(".")[1] != area_of(parts)
        and ".forms" in name
    ]
    assert offenders == []


def test_arrows_between_areas_point_one_way():
    graph: dict[str, set[str]] = {area: set() for area in AREAS}
    for parts, names in sources():
        if (area := area_of(parts)) is None:
            continue
        graph[area] |= {
            n.split(".")[1] for n in names if n.split(".")[1:2] and n.split(".")[1] in AREAS
        }
        graph[area].discard(area)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"areas import each other: {exc.args[1]}")
    assert order.index("notifications") < order.index("threads")  # threads -> notifications


@pytest.mark.parametrize("shared", sorted(SHARED))
def test_shared_pieces_use_no_area(shared):
    used = {
        name
        for parts, names in sources()
        if parts[0] == shared
        for name in names
        if name.split(".")[1:2] and name.split(".")[1] in AREAS
    }
    assert used == set()


# The Whoosh backend: the one module that may import Whoosh.
WHOOSH_BACKEND = ("search", "index")
# The engines behind the search interface: the service reaches them only through backend.py.
ENGINE_MODULES = ("forum.search.index", "forum.search.outbox", "forum.search.database")


def whoosh_importers() -> list[str]:
    return sorted(
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
        if any(name.split(".")[0] == "whoosh" for name in all_imports_of(path))
    )


def test_the_whoosh_reader_sees_a_whoosh_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from whoosh.query import Term\n")
    assert "whoosh.query" in all_imports_of(module)


def test_only_the_whoosh_backend_imports_whoosh():
    """A second backend is a module beside index.py, so nothing else may know Whoosh's types."""
    assert whoosh_importers() == [".".join(WHOOSH_BACKEND)]


def test_the_search_service_reaches_engines_only_through_the_backend_interface():
    imported = all_imports_of(PACKAGE / "search" / "service.py")
    assert [name for name in imported if name.split(".")[0] == "whoosh"] == []
    assert [
        name
        for name in imported
        if any(name == module or name.startswith(module + ".") for module in ENGINE_MODULES)
    ] == []


def test_no_test_imports_a_conftest():
    """conftest modules hold fixtures, which pytest loads; the helpers tests import live in modules
    named for what they hold (builders, pages, databases, browser/actions)."""
    importing = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if any(name.split(".")[-1] == "conftest" for name in all_imports_of(path))
    )
    assert importing == []
