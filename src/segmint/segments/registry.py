"""Saved segments: one YAML (or JSON) file per segment under ``segments/`` in the workspace.

Files are the source of truth, so segments can be edited by hand and kept in git
(DESIGN section 4 gives the file format). A file's name is its segment's name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
)

from segmint.errors import ConflictError, NotFoundError, RuleError, StoreFullError
from segmint.hints import suggest
from segmint.rules.coerce import as_rule
from segmint.rules.limits import check_data
from segmint.rules.messages import rule_error
from segmint.rules.model import Rule, RuleNode, check_text

FOLDER = "segments"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
SUFFIXES = (".yaml", ".yml", ".json")
# What a segment or rule file may be (docs/rules.md). A real one is a few kilobytes and a
# few dozen levels deep (a rule at the depth limit of rules/limits.py is about 70).
MAX_FILE_BYTES = 1_000_000
MAX_FILE_DEPTH = 100


class SegmentDefinition(BaseModel):
    """A saved segment: ``name`` (a slug), ``title``, ``description``, ``campaign``,
    ``live``, ``rule``.

    >>> SegmentDefinition(name="vip", rule="lifetime_value > 1000").rule
    Attribute(attr='lifetime_value', op='gt', value=1000)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[StrictStr, Field(description="Slug: lower-case letters, digits, _ and -")]
    title: StrictStr | None = None
    description: StrictStr | None = None
    campaign: StrictStr | None = None
    # Re-evaluated by ``segmint serve`` for the customers each batch of tracking messages
    # touches, besides scheduled refreshes (docs/server.md, "Live segments").
    live: StrictBool = False
    rule: Rule

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError(
                f"a segment name is lower-case letters, digits, '_' and '-' "
                f"(at most 63, starting with a letter or digit), got {value!r}"
            )
        return value

    @field_validator("title", "description", "campaign")
    @classmethod
    def _clean_text(cls, value: str | None) -> str | None:
        return None if value is None else check_text(value)

    @field_validator("rule", mode="before")
    @classmethod
    def _text_rule(cls, value: Any) -> Any:
        # A rule may be written in the text form in a segment file.
        if isinstance(value, str):
            return as_rule(value)
        check_data(value)  # before pydantic walks it recursively
        return value

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        for key in ("title", "description", "campaign"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.live:
            data["live"] = True
        data["rule"] = self.rule.to_json()
        return data


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a segment file; its ``$defs`` describe every rule node."""
    schema = SegmentDefinition.model_json_schema(by_alias=True)
    schema["title"] = "segmint segment file"
    schema["$id"] = "https://segmint.dev/schema/segment.json"
    return schema


def definition_from(data: Any, source: str) -> SegmentDefinition:
    """A definition from parsed YAML/JSON; errors name ``source`` and the field path."""
    if not isinstance(data, dict):
        raise RuleError(source, f"expected a mapping with name and rule, got {type(data).__name__}")
    check_data(data.get("rule"), f"{source}.rule")
    try:
        return SegmentDefinition.model_validate(data)
    except ValidationError as exc:
        raise rule_error(exc, source) from None
    except RuleError as exc:
        raise RuleError(f"{source}: rule", exc.detail) from None


def read_file(path: Path) -> SegmentDefinition:
    """Read a segment file (``.yaml``, ``.yml`` or ``.json``)."""
    return definition_from(_parse(_read_text(path), path), str(path))


def read_rule_file(path: Path) -> Any:
    """A rule from a file: a segment file's rule, a rule node in JSON/YAML, or a rule in
    the text form (any other suffix)."""
    text = _read_text(path)
    if path.suffix not in SUFFIXES:
        return text.strip()
    data = _parse(text, path)
    if isinstance(data, dict) and "name" in data and "rule" in data:
        return definition_from(data, str(path)).rule
    return data


def _read_text(path: Path) -> str:
    """The text of a file of at most :data:`MAX_FILE_BYTES` (read no further: the path may
    be a device or a pipe)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}", str(path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise RuleError(
            str(path),
            f"larger than {MAX_FILE_BYTES:,} bytes; a segment or rule file is a few kilobytes "
            "(is this the right file?)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RuleError(str(path), "not UTF-8 text") from None


def _parse(text: str, path: Path) -> Any:
    if path.suffix == ".json":
        return _parse_json(text, path)
    import yaml

    try:
        return yaml.load(text, Loader=_segment_loader())  # a SafeLoader (see below)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = f"invalid YAML{where}: {getattr(exc, 'problem', exc)}"
        line = f"{path}:{mark.line + 1}" if mark is not None else None
        raise RuleError(str(path), problem, location=line) from None
    except ValueError as exc:  # a number longer than Python converts (4,300 digits)
        raise RuleError(str(path), f"invalid YAML: {exc}") from None


def _parse_json(text: str, path: Path) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno}: {exc.msg}"
        raise RuleError(str(path), problem, location=f"{path}:{exc.lineno}") from None
    except RecursionError:
        raise RuleError(str(path), _too_deep()) from None
    except ValueError as exc:  # a number longer than Python converts (4,300 digits)
        raise RuleError(str(path), f"invalid JSON: {exc}") from None
    if _depth(data) > MAX_FILE_DEPTH:
        raise RuleError(str(path), _too_deep())
    return data


def _too_deep() -> str:
    return f"nested deeper than {MAX_FILE_DEPTH} levels"


def _depth(data: Any) -> int:
    """How deeply lists and mappings nest in ``data`` (without recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            values = item.values() if isinstance(item, dict) else item
            stack.extend((value, depth + 1) for value in values)
    return deepest


_LOADER: type | None = None


def _segment_loader() -> type:
    """PyYAML's safe loader without anchors and aliases, and with a nesting limit.

    An alias repeats a node without copying text, so 500 bytes of nested aliases expand to
    10^8 nodes ("billion laughs"); segment files have no use for them, so any anchor or
    alias is refused where it is met, before anything is expanded. The composer is
    recursive, so nesting is limited where it descends."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml
    from yaml.composer import ComposerError
    from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent

    class SegmentLoader(yaml.SafeLoader):  # type: ignore[misc]  # (PyYAML has no types)
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, AliasEvent) or (
                isinstance(event, NodeEvent) and event.anchor is not None
            ):
                raise ComposerError(
                    None,
                    None,
                    "anchors (&name) and aliases (*name) are not allowed in segment files",
                    event.start_mark,
                )
            if not isinstance(event, CollectionStartEvent):
                return super().compose_node(parent, index)
            if self.depth >= MAX_FILE_DEPTH:
                raise ComposerError(None, None, _too_deep(), event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    _LOADER = SegmentLoader
    return _LOADER


class Registry:
    """The saved segments of one workspace folder."""

    def __init__(self, root: Path) -> None:
        self.folder = root / FOLDER

    def files(self) -> dict[str, Path]:
        if not self.folder.is_dir():
            return {}
        found: dict[str, Path] = {}
        for path in sorted(self.folder.iterdir()):
            if path.suffix in SUFFIXES and path.is_file():
                found.setdefault(path.stem, path)
        return found

    def all(self) -> dict[str, SegmentDefinition]:
        """Every saved segment by name; a broken file is an error naming the file."""
        definitions = {}
        for name, path in self.files().items():
            definition = read_file(path)
            if definition.name != name:
                raise RuleError(
                    f"{path}: name",
                    f"the file of segment {definition.name!r} must be named "
                    f"{definition.name}{path.suffix}",
                )
            definitions[name] = definition
        return definitions

    def rules(self) -> SavedRules:
        """Saved rules by name, each file read when a rule refers to it, so a broken file
        only fails the rules that use it."""
        return SavedRules(self)

    def get(self, name: str) -> SegmentDefinition:
        return read_file(self.path(name))

    def path(self, name: str) -> Path:
        """The file of a saved segment; an unknown name is an error with a suggestion."""
        files = self.files()
        if name not in files:
            hint = suggest(name, files)
            raise NotFoundError(f"no saved segment {name!r}{hint} (see: segmint segment list)")
        return files[name]

    def save(self, definition: SegmentDefinition, replace: bool = False) -> Path:
        """Write ``segments/NAME.yaml`` (atomically: a temporary file, then a rename)."""
        import yaml

        existing = self.files().get(definition.name)
        if existing is not None and not replace:
            raise ConflictError(
                f"name: segment {definition.name!r} already exists ({existing}); "
                "use --replace to overwrite it",
                location="name",
            )
        self.folder.mkdir(exist_ok=True)
        path = existing if existing is not None else self.folder / f"{definition.name}.yaml"
        if path.suffix == ".json":
            text = json.dumps(definition.to_json(), indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.safe_dump(definition.to_json(), sort_keys=False, allow_unicode=True)
        write_atomically(path, text)
        return path

    def remove(self, name: str) -> Path:
        path = self.path(name)
        path.unlink()
        return path


class SavedRules(Mapping[str, RuleNode]):
    """The rules of saved segments, read from their files on first use."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.names = registry.files()
        self.read: dict[str, RuleNode] = {}

    def __getitem__(self, name: str) -> RuleNode:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.read:
            self.read[name] = read_file(self.names[name]).rule
        return self.read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: a hidden temporary file beside it, synced, then
    renamed over it. A temporary file left by a killed writer is removed by the next one;
    on an error (a full disk) the temporary file is removed at once."""
    from segmint.store.txn import is_disk_full, kill_point

    for stale in path.parent.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        kill_point("segment:before-rename")
        tmp.replace(path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise StoreFullError(
                f"no space left on device while writing {path}; it is unchanged"
            ) from exc
        raise
    kill_point("segment:after-rename")
