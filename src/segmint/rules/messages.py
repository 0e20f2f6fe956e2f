"""Pydantic's errors about a rule, rewritten into segmint's one-line form: the node path
as users write it (``rule.and[2].window.last_days``), what was expected and what was got.

Kept apart from rules/coerce.py so that the text parser (rules/text.py), which coerce
calls, can use it without an import circle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from segmint.errors import RuleError
from segmint.hints import suggest
from segmint.rules.model import NODE_TYPES

if TYPE_CHECKING:
    from pydantic import ValidationError

# Union branch labels pydantic puts into error locations; they are not part of the path.
_TAGS = {cls.__name__ for cls in NODE_TYPES} | {"LastDays", "DaysAgo", "Between"}
_BRANCH = re.compile(r"^(bool|int|float|str)$|\[")


def rule_error(exc: ValidationError, root: str) -> RuleError:
    """The first problem of a pydantic error as a :class:`RuleError` with the node path."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = node_path(root, first["loc"])
    same_place = [e for e in errors if node_path(root, e["loc"]) == path]
    return RuleError(path, _describe(first, same_place))


def node_path(root: str, loc: Iterable[int | str]) -> str:
    parts = [root] if root else []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item not in _TAGS and not _BRANCH.search(item):
            parts.append(f".{item}" if parts else item)
    return "".join(parts)


def _describe(error: Any, same_place: list[Any]) -> str:
    kind, got = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        field = str(error["loc"][-1])
        return f"unknown key {field!r}{suggest(field, _known_keys(error['loc']))}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        return f"expected one of {expected}, got {got!r}{suggest(str(got), options)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<="}
        bound = next(iter(ctx.values()))
        return f"must be {sign.get(kind, '<')} {bound}, got {got!r}"
    if kind in ("rule_node", "window"):
        return f"{error['msg']}, got {_short(got)}"
    if len(same_place) > 1 or kind.endswith("_type"):
        wanted = sorted({_type_word(e["type"]) for e in same_place} - {""})
        return f"expected {' or '.join(wanted) or 'a value'}, got {_short(got)}"
    return f"{error['msg']}, got {_short(got)}"


def _type_word(kind: str) -> str:
    return {
        "bool_type": "a boolean",
        "int_type": "an integer",
        "float_type": "a number",
        "string_type": "a string",
        "tuple_type": "a list",
        "dict_type": "an object",
        "model_type": "an object",
        "model_attributes_type": "an object",
    }.get(kind, "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the node holding an unknown key accepts (for a 'did you mean')."""
    owner = next((item for item in reversed(loc[:-1]) if item in _TAGS), None)
    for cls in NODE_TYPES:
        if cls.__name__ == owner:
            return [f.alias or name for name, f in cls.model_fields.items()]
    return []
