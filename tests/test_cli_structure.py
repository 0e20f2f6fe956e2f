"""The CLI stays thin: each command parses its arguments, makes one façade call and renders.

A command function is one decorated with ``@<typer>.command(...)`` or
``@<typer>.callback(...)`` in ``src/segmint/cli/``. Its length counts the lines of its body
from the first statement after the docstring to its end, nested functions included, leaving
out blank lines and lines holding only a comment (the decorators, the signature with its
``Annotated`` options and the docstring are not counted).
"""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "segmint" / "cli"
MAX_COMMAND_LINES = 15


def _is_command(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ("command", "callback"):
            return True
    return False


def _body_lines(node: ast.FunctionDef, lines: list[str]) -> int:
    body = node.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    shown = lines[body[0].lineno - 1 : node.end_lineno]
    return sum(1 for line in shown if line.strip() and not line.strip().startswith("#"))


def command_lengths(folder: Path = CLI) -> dict[str, int]:
    """``file:function`` -> body length of every command function under ``folder``."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and _is_command(node):
                found[f"{path.name}:{node.name}"] = _body_lines(node, lines)
    return found


def test_the_cli_has_commands_to_measure() -> None:
    lengths = command_lengths()
    assert len(lengths) >= 25
    assert "segment.py:remove" in lengths and "living.py:refresh" in lengths


def test_every_cli_command_function_is_at_most_15_lines() -> None:
    too_long = {name: n for name, n in command_lengths().items() if n > MAX_COMMAND_LINES}
    assert not too_long, (
        f"CLI command functions longer than {MAX_COMMAND_LINES} lines: {too_long}; move the "
        "logic behind a Workspace method and the rendering into cli/render.py"
    )


def test_the_measure_counts_the_body_only(tmp_path: Path) -> None:
    long_body = "\n".join(f"    x{i} = {i}" for i in range(16))
    (tmp_path / "cmd.py").write_text(
        "@app.command()\n"
        "def short(\n    a: int = 1,\n    b: int = 2,\n) -> None:\n"
        '    """Docstring.\n\n    More.\n    """\n'
        "    # a comment\n\n    print(a)\n\n"
        f"@sub.callback()\ndef long() -> None:\n{long_body}\n\n"
        "def helper() -> None:\n" + long_body + "\n",
        encoding="utf-8",
    )
    assert command_lengths(tmp_path) == {"cmd.py:short": 1, "cmd.py:long": 16}
