"""Figures of the code's structure, for the closing notes of restructuring work.

    python bench/architecture_stats.py [--src src/segmint]

Prints, per layer of docs/architecture.md: modules, SQL string literals (found as
tests/test_architecture.py finds them), and function lengths; then the import
circles, the upward imports, the public methods of ``Workspace``, and the ``>>>``
examples in the sources. Read from the source with ``ast``: nothing is imported or run.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_architecture import LAYERS, circles, sql_strings

# SQL strings are found as tests/test_architecture.py finds them (capital keywords).


def layer_name(module: str) -> str:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for names in LAYERS:
        if top in names:
            return names[0]
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("src/segmint"))
    args = parser.parse_args()
    root: Path = args.src
    sql: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    lengths: dict[str, list[int]] = defaultdict(list)
    examples = 0
    graph: dict[str, set[str]] = defaultdict(set)
    names = {
        ".".join(("segmint", *p.relative_to(root).with_suffix("").parts))
        for p in root.rglob("*.py")
    }
    workspace_methods = 0
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("segmint", *path.relative_to(root).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        layer = layer_name(module)
        modules[layer] += 1
        text = path.read_text(encoding="utf-8")
        examples += text.count(">>> ")
        tree = ast.parse(text)
        sql[layer] += len(sql_strings(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lengths[layer].append(node.end_lineno - node.lineno + 1)
            if isinstance(node, ast.ClassDef) and node.name == "Workspace":
                workspace_methods = sum(
                    isinstance(b, ast.FunctionDef) and not b.name.startswith("_") for b in node.body
                )
            source = node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else None
            if source is not None and source.startswith("segmint"):
                assert isinstance(node, ast.ImportFrom)
                subs = [f"{source}.{a.name}" for a in node.names]
                graph[module].update([s for s in subs if s in names] or [source])
    print(f"{'layer':<12}{'modules':>8}{'SQL strings':>13}"
          f"{'functions':>11}{'median len':>12}{'p90 len':>9}")  # fmt: skip
    all_lengths: list[int] = []
    for names_ in LAYERS:
        layer = names_[0]
        if not modules[layer]:
            continue
        ls = sorted(lengths[layer])
        all_lengths += ls
        p90 = ls[int(0.9 * (len(ls) - 1))] if ls else 0
        print(
            f"{layer:<12}{modules[layer]:>8}{sql[layer]:>13}"
            f"{len(ls):>11}{statistics.median(ls) if ls else 0:>12}{p90:>9}"
        )
    all_lengths.sort()
    print(
        f"{'all':<12}{sum(modules.values()):>8}{sum(sql.values()):>13}"
        f"{len(all_lengths):>11}"
        f"{statistics.median(all_lengths):>12}{all_lengths[int(0.9 * (len(all_lengths) - 1))]:>9}"
    )
    found = circles(graph)
    print(f"import circles: {len(found)}")
    for c in found:
        print("  " + ", ".join(sorted(c)))
    print(f"Workspace public methods: {workspace_methods}")
    print(f">>> example lines in the sources: {examples}")


if __name__ == "__main__":
    main()
