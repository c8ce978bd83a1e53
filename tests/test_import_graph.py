"""The import graph of adloom: no cycles, and no stage imports a later one.

Every module under src/adloom is parsed with ``ast``; every import counts, the lazy
ones inside functions and those under ``TYPE_CHECKING`` too (a cycle hidden in a
function is still a cycle a reader must hold in their head). The stages are layered
as below, lowest first; a module may import its own package, the ones below it, and
the base, never a package of its own rank or above (docs/architecture.md).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# The packages by rank: an import goes down the list, or stays inside its package.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("base",),  # adloom's top-level modules: model, errors, values, paths, registry...
    ("copy",),  # the rules copy must meet and how platforms count it
    ("providers",),  # who makes copy and images: draft, bedrock, plugins
    ("engine",),  # fan-out, pacing, retries, budget, the journal
    ("brief",),  # reading the workbook
    ("creative", "delivery"),  # composing pictures; the workbook, exports, preview
    ("results",),  # the platforms' reports read back; what won; the next round's lessons
    ("run",),  # the stages end to end, and the commands on top of them
    ("cli",),  # the command line: parses, calls a stage, maps errors
)
RANK = {package: rank for rank, names in enumerate(LAYERS) for package in names}
TOP = {"cli", "__main__"}  # top-level modules that sit above every stage


def package_of(module: str) -> str:
    """The layer package of ``adloom.x.y``: x when it is a package, else base."""
    parts = module.split(".")
    if len(parts) == 2 and parts[1] in TOP:
        return "cli"
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] in RANK):
        return parts[1]
    return "base"


def modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """Every module under ``src/adloom``: its dotted name, file, and whether a package."""
    found = {}
    for path in sorted((src / "adloom").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def imports(src: Path) -> Iterator[tuple[str, str, Path, int]]:
    """(importer, imported, file, line) for every import of an adloom module."""
    known = modules(src)
    for name, (path, package) in known.items():
        here = name if package else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _targets(node, here, known):
                if target != name:
                    yield name, target, path, node.lineno


def _targets(node: ast.AST, here: str, known: Mapping[str, object]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = here.split(".")[: len(here.split(".")) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    if source not in known:
        return []
    # ``from adloom.copy import rsa`` imports the module adloom.copy.rsa.
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]


def graph(src: Path) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules(src)}
    for importer, imported, _, _ in imports(src):
        edges[importer].add(imported)
    return edges


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def upward(src: Path) -> list[str]:
    """Each import of a package of the importer's rank or above, named with its place."""
    wrong: list[str] = []
    for importer, imported, path, line in imports(src):
        mine, theirs = package_of(importer), package_of(imported)
        if mine != theirs and RANK[theirs] >= RANK[mine]:
            where = f"{path.relative_to(src.parent)}:{line}"
            wrong.append(f"{where}: {importer} ({mine}) imports {imported} ({theirs})")
    return list(dict.fromkeys(wrong))  # one line per import, however many names it takes


def test_every_package_has_a_rank() -> None:
    packages = {package_of(name) for name in modules(SRC)}
    assert packages <= set(RANK), f"put {sorted(packages - set(RANK))} in LAYERS"


def test_no_import_cycles() -> None:
    found = cycles(graph(SRC))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_upward_imports() -> None:
    wrong = upward(SRC)
    assert not wrong, "imports of a later stage:\n" + "\n".join(wrong)


def test_the_base_stays_small() -> None:
    flat = list((SRC / "adloom").glob("*.py"))
    assert len(flat) <= 15, sorted(p.name for p in flat)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"a.py": "from adloom import b\n", "b.py": "def f():\n    import adloom.a\n"},
            "cycle",
        ),
        ({"copy/__init__.py": "", "copy/x.py": "from adloom.run import y\n"}, "upward"),
        ({"run/__init__.py": "", "run/y.py": "", "x.py": "from adloom.run.y import z\n"}, "upward"),
        (
            {"creative/__init__.py": "", "creative/x.py": "from ..delivery import w\n"},
            "upward",
        ),
    ],
)
def test_the_checks_catch_a_cycle_and_an_upward_import(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    """The checks find what they are for, lazy and relative imports included."""
    for name, text in {"__init__.py": "", "delivery/__init__.py": "", **files}.items():
        path = tmp_path / "adloom" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "adloom" / "delivery" / "w.py").write_text("", encoding="utf-8")
    (tmp_path / "adloom" / "run").mkdir(exist_ok=True)
    (tmp_path / "adloom" / "run" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "adloom" / "run" / "y.py").write_text("", encoding="utf-8")
    if message == "cycle":
        assert cycles(graph(tmp_path)) == [["adloom.a", "adloom.b"]]
    else:
        assert len(upward(tmp_path)) == 1, upward(tmp_path)
