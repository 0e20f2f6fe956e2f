"""``segmint cluster``: find clusters, explain them as rules, list and show runs, save one
as a segment."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.app import _open, app, instant, run
from segmint.cli.output import progress_for_stderr
from segmint.cli.segment import AsOfOpt

cluster_app = typer.Typer(
    help="Cluster customers on traits and attributes; explain each cluster as a rule.",
    invoke_without_command=True,
)
app.add_typer(cluster_app, name="cluster")

RANGE = re.compile(r"\s*(\d+)\s*-\s*(\d+)\s*")


class SaveAs(StrEnum):
    rule = "rule"
    static = "static"


def parse_range(text: str) -> tuple[int, int]:
    from segmint.cluster.runs import MAX_K
    from segmint.errors import ArgumentError

    match = RANGE.fullmatch(text)
    if not match:
        raise ArgumentError(f"--k-range: expected LO-HI such as 3-8, got {text!r}", "--k-range")
    if any(len(part.lstrip("0")) > 6 for part in match.groups()):  # never convert 5,000 digits
        raise ArgumentError(
            f"--k-range: each k must be between 2 and {MAX_K}, got {text!r}", "--k-range"
        )
    return int(match.group(1)), int(match.group(2))


@cluster_app.callback()
def cluster(
    ctx: typer.Context,
    features: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated traits and attributes (default: recency, frequency, "
            "monetary, AOV, tenure, activity, email rates, predicted CLV).",
            show_default=False,
        ),
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Use exactly k clusters.")] = None,
    k_range: Annotated[
        str | None,
        typer.Option("--k-range", help="Try every k from LO to HI and choose (default 3-8)."),
    ] = None,
    as_of: AsOfOpt = None,
    sample: Annotated[
        int, typer.Option(help="Customers to fit on (everyone is then assigned).")
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same clusters).")] = 0,
    plot_dir: Annotated[
        Path | None,
        typer.Option(help="Write centres.png and projection.png here.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Cluster customers with k-means; name each cluster and explain it as a rule."""
    if ctx.invoked_subcommand is not None:
        return

    def action() -> Any:
        names = [f.strip() for f in features.split(",") if f.strip()] if features else None
        span = parse_range(k_range) if k_range is not None else None
        when = instant(as_of)
        with _open() as ws:
            return ws.cluster(names, k, span, when, sample, seed, plot_dir, progress_for_stderr())

    result = run(action)
    if as_json:
        print(json.dumps(result.summary(), indent=2, ensure_ascii=False))
        return
    from segmint.cli.render import print_new_cluster_run

    print_new_cluster_run(result, plot_dir)


@cluster_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The stored cluster runs."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.cluster_runs()

    rows = run(action)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from segmint.cli.render import print_cluster_runs

    print_cluster_runs(rows)


@cluster_app.command("show")
def show(
    run_id: Annotated[int, typer.Argument(help="A cluster run id (segmint cluster list).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A stored run: parameters, the score of each k, and every cluster."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.cluster_run(run_id)

    result = run(action)
    if as_json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    from segmint.cli.render import print_cluster_run

    print_cluster_run(result)


@cluster_app.command("rename")
def rename(
    run_id: Annotated[int, typer.Argument(help="A cluster run id (segmint cluster list).")],
    cluster: Annotated[int, typer.Argument(help="A cluster id of that run.")],
    name: Annotated[str, typer.Argument(help="The cluster's new name.")],
) -> None:
    """Replace a cluster's suggested name (it becomes the title when the cluster is saved)."""

    def action() -> Any:
        with _open() as ws:
            return ws.rename_cluster(run_id, cluster, name)

    run(action)
    print(f"cluster {cluster} of run {run_id} is now named {name.strip()!r}")


@cluster_app.command("save")
def save(
    run_id: Annotated[int, typer.Argument(help="A cluster run id (segmint cluster list).")],
    cluster: Annotated[int, typer.Argument(help="A cluster id of that run.")],
    name: Annotated[str, typer.Option(help="The new segment's name.")],
    as_: Annotated[
        SaveAs,
        typer.Option(
            "--as",
            help="rule: the cluster's rule, refreshed like any segment; static: its members "
            "at the run's as_of, fixed.",
        ),
    ] = SaveAs.rule,
    title: Annotated[
        str | None,
        typer.Option(help="Title (default: the cluster's suggested name).", show_default=False),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a segment of that name.")] = False,
) -> None:
    """Save a cluster as a segment (segments/NAME.yaml)."""

    def action() -> Any:
        with _open() as ws:
            return ws.save_cluster(run_id, cluster, name, as_.value, title, replace)

    path = run(action)
    print(f"saved segment {name!r} ({as_.value}) to {path}")
