"""The layers of docs/architecture.md, checked on the source: no module imports from a
layer above its own, and no import closes a circle. Every import counts, those inside
functions and under ``TYPE_CHECKING`` too: a type-only import up a layer still means the
lower layer knows about the upper one.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "segmint"

# Bottom-up; a module may import its own layer and the ones below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "hints", "console", "config", "plotting"),
    ("engine",),
    ("store",),
    ("ingest",),
    ("identity",),
    ("traits",),
    ("rules",),
    ("segments",),
    ("quality",),
    ("cluster",),
    ("activation",),
    ("workspace",),
    ("demo",),
    ("__init__",),
    # The server is a front end the CLI starts (`segmint serve`).
    ("server",),
    ("cli", "__main__"),
)


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(("segmint", *parts)).removesuffix(".__init__")


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: no layer in tests/test_architecture.py LAYERS")


def imports() -> dict[str, set[str]]:
    """Module -> the segmint modules it imports (a name imported from a package counts as
    the submodule when there is one)."""
    modules = {_module(p) for p in SRC.rglob("*.py")}
    found: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        me = _module(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "segmint":
                    subs = [f"{node.module}.{a.name}" for a in node.names]
                    targets = [s for s in subs if s in modules] or [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.split(".")[0] == "segmint"]
            found[me].update(t for t in targets if t != me)
    return found


def test_every_module_has_a_layer() -> None:
    for path in SRC.rglob("*.py"):
        _layer(_module(path))


def test_no_module_imports_from_a_layer_above() -> None:
    upward = {
        (me, target)
        for me, targets in imports().items()
        for target in targets
        if _layer(target) > _layer(me)
    }
    assert not upward, "imports up a layer (docs/architecture.md):\n" + "\n".join(
        f"  {a} imports {b}" for a, b in sorted(upward)
    )


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_closes_a_circle() -> None:
    found = [sorted(c) for c in circles(imports())]
    assert not found, f"import circles: {found}"


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [frozenset({"a", "b", "c"})]


def test_an_upward_import_is_found() -> None:
    assert _layer("segmint.engine.clock") < _layer("segmint.rules.compile")
    assert _layer("segmint.workspace") < _layer("segmint.demo.tour") < _layer("segmint")


# A string that is SQL: it starts with a statement keyword, or holds a clause keyword, in
# capitals as segmint writes SQL (messages and grammar words are lower case).
_SQL = re.compile(
    r"^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|COPY|SET|BEGIN|COMMIT|"
    r"CHECKPOINT|PRAGMA|ATTACH|DETACH|EXPLAIN|SUMMARIZE|DESCRIBE)\b"
    r"|\b(FROM|WHERE|JOIN|GROUP BY|ORDER BY|VALUES)\b"
)
# Where SQL text may be: the engine, the store, and the DuckDB load pipeline (its readers,
# TRY_CAST staging and set-based steps over the staged rows are DuckDB-only fast paths,
# src/segmint/ingest/duckdb/__init__.py).
SQL_HOMES = (("engine",), ("store",), ("ingest", "duckdb"))
# segmint's own tables: only the store reads or writes them.
_OWN_TABLES = re.compile(
    r"\b(INSERT INTO|UPDATE|DELETE FROM|ALTER TABLE|FROM|JOIN|USING)\s+(profiles|identities|"
    r"identity_merges|events|orders|rates|loads|meta|attributes|event_properties|"
    r"event_property_usage|event_names|segment_\w+|cluster_\w+|clv_\w+|schema_version|"
    r"suppressions|exports|export_sent|webhook_\w+|campaigns|campaign_\w+|api_keys)\b"
)


def _home(path: Path) -> bool:
    parts = path.relative_to(SRC).parts
    return any(parts[: len(home)] == home for home in SQL_HOMES)


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that are SQL (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    # The text pieces of an f-string are read with it, not again on their own.
    pieces = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in pieces:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        else:
            continue
        if _SQL.search(text):
            found.append((node.lineno, text))
    return found


def test_sql_lives_in_the_engine_the_store_and_the_load_pipeline_only() -> None:
    stray = [
        f"  {path.relative_to(SRC)}:{line}: {text[:60]!r}"
        for path in sorted(SRC.rglob("*.py"))
        if not _home(path)
        for line, text in sql_strings(path)
    ]
    assert not stray, "SQL outside engine/, store/ and ingest/duckdb/:\n" + "\n".join(stray)


def test_only_the_store_reads_and_writes_segmints_own_tables() -> None:
    """The load pipeline works on its staged temp tables; every statement that reads or
    writes a stored table of segmint's is a store function."""
    stray = [
        f"  {path.relative_to(SRC)}:{line}: {text[:60]!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "store"
        for line, text in sql_strings(path)
        if _OWN_TABLES.search(text)
    ]
    assert not stray, "own tables read or written outside store/:\n" + "\n".join(stray)


def test_the_own_table_finder_tells_stored_tables_from_staged_ones() -> None:
    assert _OWN_TABLES.search("UPDATE profiles AS p SET x = 1")
    assert _OWN_TABLES.search("SELECT * FROM _stage s JOIN events e ON e.pid = s.pid")
    assert not _OWN_TABLES.search("SELECT * FROM _stage WHERE _reason IS NULL")
    assert not _OWN_TABLES.search("INSERT INTO _extra_rejects SELECT 1")


def test_the_sql_finder_finds_sql_and_not_messages(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""SELECT in a docstring is prose."""\n'
        'a = "SELECT 1"\n'
        'b = f"DELETE FROM {t} WHERE x"\n'
        'c = "rows are read from the file"\n'
        'd = "set the value"\n',
        encoding="utf-8",
    )
    assert [line for line, _ in sql_strings(module)] == [2, 3]
