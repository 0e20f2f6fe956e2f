"""How big a rule may be, checked without recursion before anything recursive runs.

Parsing, validation, compiling and SQL rendering all walk a rule recursively; a rule nested
a few hundred levels deep, or an ``or`` of a thousand terms (a left-deep chain once
compiled), exhausts Python's stack somewhere in them. Real rules stay far below these
limits (docs/rules.md): the walks here use an explicit stack, so a hostile rule is one
clear :class:`RuleError` instead.

Depth counts the ``and``/``or``/``not`` nodes above a node: ``not did x`` has its condition
at depth 1. Terms are the leaves of the tree: conditions, and empty ``and``/``or`` (which
are constants). References to saved segments are expanded, as the compiler inlines them,
and each counts as a level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from segmint.errors import RuleError, SegmintError

MAX_DEPTH: Final = 32
MAX_TERMS: Final = 500

# The children of a boolean node as (path suffix, child), or None for a term.
Children = Callable[[Any], "list[tuple[str, Any]] | None"]
# Where a node is, for an error message: from the node and its path.
Locate = Callable[[Any, str], str]


def check_size(root: Any, children: Children, path: str, locate: Locate | None = None) -> None:
    """Raise :class:`RuleError` if the tree under ``root`` is nested deeper than
    :data:`MAX_DEPTH` or has more than :data:`MAX_TERMS` terms."""
    where = locate or (lambda _node, p: p)
    stack: list[tuple[Any, str, int]] = [(root, path, 0)]
    terms = 0
    while stack:
        node, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RuleError(
                where(node, at),
                f"nested deeper than {MAX_DEPTH} levels of and/or/not/in segment; "
                "flatten the rule or save a part as its own segment",
            )
        kids = children(node)
        if not kids:
            terms += 1
            if terms > MAX_TERMS:
                raise RuleError(
                    where(root, path),
                    f"more than {MAX_TERMS} conditions; split the rule, or use one "
                    "condition with a list (in [...]) instead of many alternatives",
                )
            continue
        stack.extend((child, f"{at}{key}", depth + 1) for key, child in reversed(kids))


def data_children(node: Any) -> list[tuple[str, Any]] | None:
    """The children of a rule in the canonical JSON form (parsed JSON or YAML), before
    it is validated: anything that is not a well-formed and/or/not is a term here (the
    model reports what is wrong with it)."""
    from segmint.rules.model import kind_of

    # The kind the model's discriminator will pick, and its sub-rule keys.
    kind = kind_of(node)
    if kind is None or not kind.child_fields:
        return None
    found: list[tuple[str, Any]] = []
    for _, key, many in kind.child_fields:
        if key not in node:
            continue
        items = node[key]
        if not many:
            found.append((f".{key}", items))
        elif not isinstance(items, list | tuple):
            return None
        else:
            found += [(f".{key}[{i}]", item) for i, item in enumerate(items)]
    return found or None


def check_data(data: Any, path: str = "rule") -> None:
    """:func:`check_size` of a rule in the JSON form, before pydantic walks it."""
    check_size(data, data_children, path)


def check_tree(rule: Any, segments: Mapping[str, Any], path: str = "rule") -> None:
    """:func:`check_size` of a rule tree with its references to saved segments expanded
    (as the compiler inlines them); a reference is one level, as validation and inlining
    recurse through it. A reference that cannot be expanded (unknown, broken, or part of
    a cycle) is a term here, and validation says what is wrong with it."""
    from segmint.rules.model import SegmentRef

    def children(entry: tuple[Any, tuple[str, ...]]) -> list[tuple[str, Any]] | None:
        node, chain = entry
        if node.child_fields:
            return [(key, (child, chain)) for key, child in node.children()]
        if isinstance(node, SegmentRef) and node.segment not in chain:
            try:
                target = segments.get(node.segment)
            except SegmintError:
                target = None
            if target is not None:
                return [(f" -> segment {node.segment!r}: rule", (target, (*chain, node.segment)))]
        return None

    check_size((rule, ()), children, path)
