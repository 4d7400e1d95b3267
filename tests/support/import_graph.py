"""cnnkit's import graph, read from the source (no module is imported), and the "never" rules it must obey.

Every ``import`` counts, at module level or inside a function, except those under ``if TYPE_CHECKING:``
(annotations only). A *unit* is a top-level module (``cnnkit.engine``) or a package (``cnnkit.store``).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

# (importer prefix, what it must never import, why): a prefix matches the module and everything under it.
NEVER: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("cnnkit", ("streamlit", "pages", "ui", "tests"), "the library never imports the UI (or the tests)"),
    ("cnnkit.events", ("cnnkit", "torch", "numpy", "pandas"), "events are the torch-free types everyone shares"),
    ("cnnkit.errors", ("cnnkit", "torch"), "errors are the bottom of the house"),
    ("cnnkit.text", ("cnnkit", "torch", "pandas"), "text formats values, nothing more"),
    ("cnnkit.store", ("cnnkit.config", "cnnkit.models", "cnnkit.engine", "cnnkit.plan", "cnnkit.data",
                      "cnnkit.jobs", "cnnkit.experiments", "cnnkit.compare", "cnnkit.views", "cnnkit.search",
                      "cnnkit.cli", "torch"),
     "the store imports only errors and events"),
    ("cnnkit.data", ("cnnkit.models", "cnnkit.config", "cnnkit.engine", "cnnkit.store", "cnnkit.jobs"),
     "datasets know nothing of models, runs or the store"),
    ("cnnkit.models", ("cnnkit.store", "cnnkit.engine", "cnnkit.jobs", "cnnkit.config", "cnnkit.plan",
                       "cnnkit.experiments", "cnnkit.compare", "cnnkit.views", "cnnkit.cli"),
     "models never import store, engine or jobs"),
    ("cnnkit.engine", ("cnnkit.jobs", "cnnkit.store", "cnnkit.experiments", "cnnkit.compare", "cnnkit.views",
                       "cnnkit.cli", "cnnkit.bench", "cnnkit.search", "cnnkit.insight"),
     "the engine never imports jobs or the store: it reports events"),
    ("cnnkit.jobs", ("cnnkit.cli", "cnnkit.views", "cnnkit.compare", "cnnkit.experiments", "cnnkit.bench",
                     "cnnkit.insight", "cnnkit.bridges"), "jobs run runs; they do not know who asked"),
    ("cnnkit.experiments", ("cnnkit.cli", "cnnkit.views", "cnnkit.bench", "cnnkit.compare", "cnnkit.engine"),
     "experiments queue runs through the store and read results; they never train"),
    ("cnnkit.compare", ("cnnkit.engine", "cnnkit.jobs.local", "cnnkit.jobs.supervisor", "cnnkit.cli",
                        "cnnkit.views", "cnnkit.bench", "cnnkit.insight", "torch"),
     "comparing runs reads the store; it loads no torch"),
    ("cnnkit.views", ("cnnkit.cli", "cnnkit.bench", "cnnkit.engine", "cnnkit.jobs.local"),
     "page logic never trains (the UI process never trains)"),
)
TOP = "cnnkit.cli"  # only cnnkit.__main__ imports the command line
TORCH_FREE = ("cnnkit.events", "cnnkit.errors", "cnnkit.text", "cnnkit.params", "cnnkit.config", "cnnkit.store",
              "cnnkit.data.datasets", "cnnkit.jobs.process", "cnnkit.cli", "cnnkit.compare")


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Imports(ast.NodeVisitor):
    """The imports of one module, skipping ``if TYPE_CHECKING:`` blocks."""

    def __init__(self, module: str, path: Path, modules: set[str]):
        self.module, self.path, self.modules = module, path, modules
        self.found: list[Edge] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend(Edge(self.module, alias.name, node.lineno) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            raise ValueError(f"{self.path}:{node.lineno}: a relative import; cnnkit imports by full name")
        base = node.module or ""
        for alias in node.names:
            full = f"{base}.{alias.name}"
            self.found.append(Edge(self.module, full if full in self.modules else base, node.lineno))


def edges(root: Path) -> list[Edge]:
    """Every import in the package at ``root`` (a folder named cnnkit), as importer → imported module."""
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    found: list[Edge] = []
    for name, path in files.items():
        visitor = _Imports(name, path, set(files))
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found += visitor.found
    return found


def unit(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(root: Path) -> list[str]:
    """One line per broken rule: the never rules, cnnkit.cli imported by anything but __main__, a cycle."""
    graph = edges(root)
    out = []
    for edge in graph:
        for importer, never, why in NEVER:
            if _under(edge.importer, importer) and any(_under(edge.imported, n) for n in never):
                if importer == "cnnkit" or not _under(edge.imported, importer):  # a package may use itself
                    out.append(f"{edge.importer} imports {edge.imported} (line {edge.line}): {why}")
        if _under(edge.imported, TOP) and not _under(edge.importer, TOP) and edge.importer != "cnnkit.__main__":
            out.append(f"{edge.importer} imports {edge.imported} (line {edge.line}): only __main__ imports the CLI")
    out += [f"import cycle: {' → '.join(cycle)}" for cycle in cycles(graph)]
    return out


def cycles(graph: list[Edge]) -> list[list[str]]:
    """Strongly connected groups of more than one cnnkit module (Tarjan)."""
    nodes = sorted({e.importer for e in graph})
    succ = {n: sorted({e.imported for e in graph if e.importer == n and e.imported in nodes}) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return groups


def readme_layers(readme: str) -> list[list[str]]:
    """The units of each row of the README's module map (section "Where things live"), in order: the
    backticked ``cnnkit/…`` names of the row's first cell."""
    section = readme.split("Where things live", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `cnnkit")]
    layers = []
    for row in rows:
        first = row.split("|")[1]
        names = re.findall(r"`cnnkit/([\w/]+?)(?:\.py|/)?`", first)
        layers.append([unit("cnnkit." + n.replace("/", ".")) for n in names])
    return layers


def readme_modules(readme: str) -> dict[str, set[str]]:
    """{unit: the file names its row of the module map mentions in backticks}."""
    section = readme.split("Where things live", 1)[1]
    mentioned: dict[str, set[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `cnnkit"):
            continue
        cells = line.split("|")
        units = [unit("cnnkit." + n.replace("/", ".")) for n in
                 re.findall(r"`cnnkit/([\w/]+?)(?:\.py|/)?`", cells[1])]
        files = set(re.findall(r"`([\w/]+\.py)`", line))
        for u in units:
            mentioned.setdefault(u, set()).update(files)
    return mentioned


def upward_imports(root: Path, layers: list[list[str]]) -> list[str]:
    """Imports of a unit from its own row or a row below it (the map lists the house from the bottom up)."""
    level = {u: i for i, row in enumerate(layers) for u in row}
    out = []
    for edge in edges(root):
        a, b = unit(edge.importer), unit(edge.imported)
        if a == b or not b.startswith("cnnkit") or b == "cnnkit" or a == "cnnkit":
            continue
        if a not in level or b not in level:
            out.append(f"{edge.importer} → {edge.imported}: {a if a not in level else b} is not in the module map")
        elif level[b] >= level[a]:
            out.append(f"{edge.importer} imports {edge.imported} (line {edge.line}), which is not above it in the map")
    return out
