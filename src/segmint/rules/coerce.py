"""Turning what a user gives (a tree, a dict, JSON/YAML, text) into a rule tree.

Pydantic's errors are rewritten into our one-line form: the node path as users write it
(``rule.and[2].window.last_days``), what was expected and what was got.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segmint.rules.messages import rule_error
from segmint.rules.model import Node, Rule, RuleNode

if TYPE_CHECKING:
    from pydantic import TypeAdapter

_ADAPTER: TypeAdapter[RuleNode] | None = None


def _adapter() -> TypeAdapter[RuleNode]:
    global _ADAPTER
    if _ADAPTER is None:
        from pydantic import TypeAdapter

        _ADAPTER = TypeAdapter(Rule)
    return _ADAPTER


def as_rule(value: Any, path: str = "rule") -> RuleNode:
    """A rule tree from a node, a dict in the canonical JSON form, or the text form.

    >>> as_rule({"attr": "country", "op": "eq", "value": "US"})
    Attribute(attr='country', op='eq', value='US')
    """
    if isinstance(value, Node):
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        from segmint.rules.text import parse

        return parse(value)
    from pydantic import ValidationError

    from segmint.rules.limits import check_data

    check_data(value, path)  # before pydantic walks it recursively
    try:
        return _adapter().validate_python(value)
    except ValidationError as exc:
        raise rule_error(exc, path) from None
