"""Typer application: global options and the commands of DESIGN section 6."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from segmint.cli.formats import currency_of, plural, seconds
from segmint.cli.output import error, internal_error, progress_for_stderr


def _flag_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    """No ``<bool>`` after an on/off flag in rich help: ``--sizes`` takes no value."""
    if self.is_flag and not self.count:
        return None
    return _option_type(self, ctx)


# Typer's rich help prints the type of every option, a flag's too (its plain help does
# not); this brings the rich help in line for every command, --help included.
_option_type = typer.core.TyperOption.display_type_rich
setattr(typer.core.TyperOption, "display_type_rich", _flag_type)  # noqa: B010

app = typer.Typer(
    help="segmint: customer segmentation on your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
customer_app = typer.Typer(help="Look at single customer profiles.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")
catalog_app = typer.Typer(help="The names and types rules may use.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


class _State:
    workspace: Path | None = None
    debug: bool = False


STATE = _State()


class Kind(StrEnum):
    customers = "customers"
    events = "events"
    orders = "orders"
    rates = "rates"


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("segmint")
        except PackageNotFoundError:  # run from a source tree that was never installed
            from segmint import __version__ as found
        print(f"segmint {found}")
        raise typer.Exit()


@app.callback()
def _global(
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace folder (default: $SEGMINT_WORKSPACE, else the current folder).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    STATE.workspace = workspace
    STATE.debug = debug


def run(action: Any) -> Any:
    """Run ``action``; a segmint error becomes ``error: …`` on stderr and exit code 2, any
    other exception (a bug) an internal error and exit code 1 (``--debug``: the traceback)."""
    from segmint.errors import SegmintError

    try:
        return action()
    except SegmintError as exc:
        if STATE.debug:
            raise
        error(str(exc))
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:
        from segmint.store.txn import InterruptedAfterCommit

        if isinstance(exc, InterruptedAfterCommit):
            error("interrupted after the last write had committed; it is kept")
        else:
            error("interrupted; nothing was changed by the unfinished step")
        raise typer.Exit(130) from None
    except Exception as exc:
        from segmint.store.txn import is_disk_full

        # Every store write is a transaction that rolls back (store/txn.py); a full disk
        # met anywhere else (a spill, an output file) left the store as it was too.
        if STATE.debug:
            raise
        if not is_disk_full(exc):
            internal_error(exc)
            raise typer.Exit(1) from None
        error("no space left on device; the workspace is unchanged (free some disk space)")
        raise typer.Exit(2) from None


def instant(text: str | None, option: str = "--as-of") -> Any:
    """An option's date or instant as a UTC datetime (None when not given), parsed as the
    Python API parses ``as_of`` so both accept and refuse the same text."""
    from segmint.segments.query import parse_as_of

    return None if text is None else parse_as_of(text, option)


def instant_or_now(text: str | None, option: str = "--as-of") -> Any:
    """:func:`instant`, the current time when not given."""
    from segmint.segments.query import parse_as_of

    return parse_as_of(text, option)


def _open(read_only: bool = False) -> Any:
    """The workspace; commands that only read open it read-only, so that several of them
    (and notebooks opened with read_only=True) can work on it together."""
    import segmint

    return segmint.open(STATE.workspace, read_only=read_only)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create.")],
    source: Annotated[
        str | None,
        typer.Option(help="Read data where it lives: postgresql://USER@HOST:PORT/DB or spark."),
    ] = None,
) -> None:
    """Create a workspace: segmint.toml (documented defaults) and segmint.duckdb."""
    import segmint

    ws = run(lambda: segmint.init(directory, source=source))
    ws.close()
    print(f"created workspace {directory} (edit {directory / 'segmint.toml'} to configure)")
    if source:
        print("name your tables in its [source] section, then run: segmint catalog refresh")


@app.command()
def ingest(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON Lines file.")],
    format: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="The file's format (default: from its extension)."),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            "-d",
            help="The CSV field separator, one character such as ';' or \\t (default: ',').",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load customers, events, orders or exchange rates; bad rows go to rejects/ with the reason."""
    if file.is_dir():
        error(
            f"{file} is a folder; pass one CSV, Parquet or JSON Lines file (for several: "
            f'for f in {file}/*.csv; do segmint ingest {kind.value} "$f"; done)'
        )
        raise typer.Exit(2)

    def action() -> Any:
        with _open() as ws:
            chosen = format.value if format else None
            return ws.ingest(kind.value, file, chosen, progress_for_stderr(), delimiter or ",")

    from segmint.cli.render import print_load

    print_load(run(action))


@app.command()
def optimize(
    force: Annotated[bool, typer.Option(help="Rewrite even if nothing changed.")] = False,
) -> None:
    """Order stored events by name and time so segment queries read less."""

    def action() -> Any:
        with _open() as ws:
            return ws.optimize(progress_for_stderr(), force)

    result = run(action)
    if result.already_sorted:
        print(f"events already in order ({plural(result.rows, 'event')}); nothing to do")
    else:
        print(
            f"ordered {plural(result.rows, 'event')} of {plural(result.names, 'name')} "
            f"by name and time in {seconds(result.seconds)}"
        )


@catalog_app.command("refresh")
def catalog_refresh() -> None:
    """Read attributes, event names and properties from the [source] tables."""

    def action() -> Any:
        with _open() as ws:
            return ws.refresh_catalog()

    found = run(action)
    print(", ".join(f"{n:,} {what}" for what, n in found.items()) + " in the source")


@catalog_app.command("show")
def catalog_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The attributes and traits, event names and properties a rule may use."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.catalog()

    from segmint.cli.render import print_catalog

    print_catalog(run(action), as_json)


@catalog_app.command("values")
def catalog_values(
    name: Annotated[str, typer.Argument(help="A text attribute or event property.")],
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1,000).")] = 20,
) -> None:
    """The most common values of a text attribute or event property, with counts."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.known_values(name, limit)

    for value, n in run(action):
        print(f"{n}\t{value}")


@customer_app.command("search")
def customer_search(
    text: Annotated[str, typer.Argument(help="Start of an id or email, or part of a name.")],
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1,000).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find customers by the start of their id or email, or part of their name."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.search_customers(text, limit)

    found = run(action)
    from segmint.cli.render import print_customer_matches

    print_customer_matches(found, as_json)


@customer_app.command("show")
def customer_show(
    key: Annotated[str, typer.Argument(help="Customer id, email or anonymous id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    recent: Annotated[int, typer.Option(help="How many recent events to list.")] = 10,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Traits as of this date (00:00 UTC) or instant with an offset (default: now).",
        ),
    ] = None,
) -> None:
    """Show one customer's profile: attributes, traits, identities, activity, recent events."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.customer(key, recent, instant(as_of)), currency_of(ws.config)

    view, currency = run(action)
    if as_json:
        print(view.to_json())
        return
    from segmint.cli.render import print_customer

    print_customer(view, currency)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Workspace folder to create.")] = Path("shop"),
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same shop).")] = 0,
    force: Annotated[bool, typer.Option(help="Replace an existing demo workspace.")] = False,
) -> None:
    """Build a synthetic shop in a new workspace, ingest it, and show what it found."""
    import segmint
    from segmint.cli.render import print_demo

    progress = progress_for_stderr()
    report = run(lambda: segmint.build_demo(directory, customers, seed, progress, force=force))
    print_demo(report, _currency(report.root))


def _currency(root: Path) -> str:
    """The base currency in a workspace's config, without opening its database."""
    from segmint.config import CONFIG_FILE, load_config

    return currency_of(load_config(root / CONFIG_FILE))
