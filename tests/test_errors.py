"""The error hierarchy: one base, a kind and a location on every error, and the CLI's
answer to a user's error (one line, exit 2) and to a bug (an internal error, exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import segmint
from segmint.cli import app
from segmint.errors import (
    ArgumentError,
    BackendError,
    ConfigError,
    ConflictError,
    DependencyError,
    IngestError,
    ModelError,
    NotFoundError,
    QueryError,
    RuleError,
    SegmintError,
    StoreFullError,
    ValidationError,
    WorkspaceBusyError,
    WorkspaceError,
)

AS_OF = "2026-06-01T00:00:00Z"


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args])


# --- the hierarchy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (ValidationError, (SegmintError, ValueError)),
        (ArgumentError, (ValidationError, ValueError)),
        (RuleError, (ValidationError, ValueError)),
        (ConfigError, (ValidationError, WorkspaceError, ValueError)),
        (NotFoundError, (SegmintError, LookupError)),
        (ConflictError, (SegmintError,)),
        (BackendError, (SegmintError, NotImplementedError)),
        (QueryError, (SegmintError,)),
        (DependencyError, (SegmintError, ImportError)),
        (WorkspaceBusyError, (WorkspaceError,)),
        (StoreFullError, (WorkspaceError, OSError)),
        (IngestError, (SegmintError, ValueError)),
        (ModelError, (SegmintError, ValueError)),
    ],
)
def test_each_error_is_a_segmint_error_and_the_builtin_a_caller_expects(
    error: type[SegmintError], parents: tuple[type[Exception], ...]
) -> None:
    assert all(issubclass(error, parent) for parent in parents)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ArgumentError("--top: must be at least 1, got 0", "--top"),
            ("argument", "--top: must be at least 1, got 0", "--top"),
        ),
        (
            RuleError("rule.and[2].window.last_days", "must be an integer ≥ 1, got -5"),
            (
                "rule",
                "rule.and[2].window.last_days: must be an integer ≥ 1, got -5",
                "rule.and[2].window.last_days",
            ),
        ),
        (
            RuleError("segments/x.yaml", "invalid YAML at line 3: oops", "segments/x.yaml:3"),
            ("rule", "segments/x.yaml: invalid YAML at line 3: oops", "segments/x.yaml:3"),
        ),
        (
            BackendError("rule.and[2].window", "postgres", "a sliding window"),
            (
                "backend",
                "rule.and[2].window: a sliding window is not supported on postgres",
                "rule.and[2].window",
            ),
        ),
        (
            ConflictError("segment 'gb' already exists", "name"),
            ("conflict", "segment 'gb' already exists", "name"),
        ),
        (NotFoundError("no saved segment 'x'"), ("not_found", "no saved segment 'x'", None)),
        (ValidationError("bad", "as_of"), ("validation", "bad", "as_of")),
        (ConfigError("bad key", "segmint.toml"), ("config", "bad key", "segmint.toml")),
        (WorkspaceBusyError("busy"), ("workspace_busy", "busy", None)),
        (StoreFullError("full"), ("store_full", "full", None)),
        (QueryError("failed"), ("query", "failed", None)),
        (DependencyError("needs x", "--plot"), ("dependency", "needs x", "--plot")),
        (IngestError("bad load"), ("ingest", "bad load", None)),
        (ModelError("no fit"), ("model", "no fit", None)),
        (SegmintError("plain"), ("error", "plain", None)),
    ],
)
def test_to_dict_gives_kind_message_and_location(
    error: SegmintError, expected: tuple[str, str, str | None]
) -> None:
    assert error.to_dict() == dict(zip(("error", "message", "location"), expected, strict=True))


def test_a_backend_error_names_the_engine_with_or_without_a_node() -> None:
    error = BackendError("", "spark", "list property 'tags' in a rule")
    assert str(error) == "list property 'tags' in a rule is not supported on spark"
    assert (error.engine, error.location) == ("spark", None)


def test_a_rule_error_keeps_its_path_and_detail() -> None:
    error = RuleError("rule.not", "bad")
    assert (error.path, error.detail, error.location) == ("rule.not", "bad", "rule.not")
    assert RuleError("", "bad").location is None


# --- errors from real failures ----------------------------------------------------------------


def test_a_rule_error_is_located_at_its_node(ws: segmint.Workspace) -> None:
    unknown = {"attr": "contry", "op": "eq", "value": "US"}
    rule = {"and": [{"attr": "country", "op": "eq", "value": "US"}, unknown]}
    with pytest.raises(RuleError, match="did you mean 'country'") as caught:
        ws.count(rule, as_of=AS_OF)
    assert caught.value.location == "rule.and[1].attr"
    assert str(caught.value).startswith("rule.and[1].attr: ")
    assert caught.value.to_dict()["error"] == "rule"


def test_a_bad_argument_is_located_at_its_parameter(ws: segmint.Workspace) -> None:
    with pytest.raises(ArgumentError) as caught:
        ws.count('country = "US"', as_of="yesterday")
    assert caught.value.location == "as_of"


def test_a_segment_file_that_does_not_parse_is_located_at_its_file_and_line(
    ws: segmint.Workspace,
) -> None:
    folder = ws.root / "segments"
    folder.mkdir()
    path = folder / "x.yaml"
    path.write_text("name: x\nrule:\n  attr: [country\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        ws.segments.get("x")
    assert caught.value.location is not None
    assert caught.value.location.startswith(f"{path}:")
    assert str(caught.value).startswith(f"{path}: invalid YAML at line ")


def test_a_segment_file_with_an_invalid_rule_is_located_in_its_file(
    ws: segmint.Workspace,
) -> None:
    folder = ws.root / "segments"
    folder.mkdir()
    path = folder / "x.yaml"
    path.write_text("name: x\nrule: {attr: country, op: eqq, value: US}\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        ws.segments.get("x")
    assert caught.value.location == f"{path}.rule.op"


def test_adding_a_segment_that_exists_is_a_conflict(ws: segmint.Workspace) -> None:
    ws.add_segment("gb", 'country = "GB"')
    with pytest.raises(ConflictError, match="segment 'gb' already exists") as caught:
        ws.add_segment("gb", 'country = "FR"')
    assert caught.value.to_dict()["error"] == "conflict"
    assert "GB" in (ws.root / "segments" / "gb.yaml").read_text(encoding="utf-8")


def test_an_unknown_segment_is_not_found(ws: segmint.Workspace) -> None:
    ws.add_segment("gb", 'country = "GB"')
    with pytest.raises(NotFoundError, match="no saved segment 'gbr'; did you mean 'gb'"):
        ws.segments.get("gbr")


def test_no_failure_is_raised_as_a_bare_segmint_error() -> None:
    """Each failure has its own class (and so its kind in ``to_dict``)."""
    root = Path(segmint.__file__).parent
    bare = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "raise SegmintError(" in line
    ]
    assert bare == []


# --- the CLI ---------------------------------------------------------------------------------


def test_a_user_error_is_one_line_and_exit_2(ws_dir: Path) -> None:
    done = cli(ws_dir, "segment", "count", "--rule", 'country = "US"', "--as-of", "yesterday")
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == [
        "error: --as-of: expected an ISO 8601 date or instant with an offset, got 'yesterday'"
    ]


def test_a_bug_is_an_internal_error_and_exit_1(
    ws_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        return 1 // 0

    monkeypatch.setattr(segmint.Workspace, "count", broken)
    done = cli(ws_dir, "segment", "count", "--rule", 'country = "US"')
    assert done.exit_code == 1, done.output
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: internal error (ZeroDivisionError: ")
    assert "please report it" in lines[0] and "--debug" in lines[0]
    debug = CliRunner().invoke(
        app, ["-w", str(ws_dir), "--debug", "segment", "count", "--rule", 'country = "US"']
    )
    assert isinstance(debug.exception, ZeroDivisionError)


def test_a_bug_outside_a_command_body_is_an_internal_error_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import segmint.cli

    def broken() -> None:
        raise KeyError("oops")

    from segmint.cli.app import STATE

    monkeypatch.setattr(segmint.cli, "app", broken)
    monkeypatch.setattr(STATE, "debug", False)
    with pytest.raises(SystemExit) as exited:
        segmint.cli.main()
    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith("error: internal error (KeyError: 'oops')")


def test_a_config_error_is_located_at_the_config_file(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    (root / "segmint.toml").write_text("[stroe]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown section \[stroe\]") as caught:
        segmint.open(root)
    assert caught.value.location == str(root / "segmint.toml")
    assert caught.value.to_dict()["error"] == "config"
