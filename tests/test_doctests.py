"""The ``>>>`` examples in segmint's docstrings run, one test per docstring.

Every module of ``src/segmint`` with an example is collected (STYLE.md: every public
façade method and rule node class has one). An example that needs a workspace builds its
own small one in a temporary folder.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "segmint"
MODULES = sorted(
    ".".join(("segmint", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
    for path in SRC.rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        found += [t for t in finder.find(module, name) if t.examples]
    return found


EXAMPLES = _examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example_runs(example: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    lines: list[str] = []
    result = runner.run(example, out=lines.append)
    assert result.failed == 0, "".join(lines)


def test_every_public_workspace_method_has_an_example() -> None:
    import segmint

    public = {
        name: member
        for name, member in vars(segmint.Workspace).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }
    without = sorted(name for name, member in public.items() if ">>>" not in _doc(member))
    assert not without, f"Workspace methods without a >>> example: {without}"


def _doc(member: object) -> str:
    target = member.fget if isinstance(member, property) else member
    target = getattr(target, "__func__", target)  # a staticmethod
    return getattr(target, "__doc__", None) or ""


def test_every_rule_node_class_has_an_example() -> None:
    from segmint.rules.model import NODE_TYPES

    without = sorted(cls.__name__ for cls in NODE_TYPES if ">>>" not in (cls.__doc__ or ""))
    assert not without, f"rule node classes without a >>> example: {without}"


def test_the_examples_of_the_facade_and_the_rules_are_collected() -> None:
    assert {"segmint.workspace", "segmint.rules.model", "segmint.engine.duckdb"} <= set(MODULES)
