"""The ``>>>`` examples in the façade's docstrings run, one test per docstring.

Add a module here when its public API gets examples (STYLE.md: every public façade method
has one). Each example builds its own small workspace in a temporary folder.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "segmint",
    "segmint.workspace",
    "segmint.demo.sample",
    "segmint.segments.backfill",
]


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
