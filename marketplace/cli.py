"""The `marketplace` command: serve, demo, rebuild (and, distributed, relay and project)."""

import logging

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from marketplace import demo as demo_world
from marketplace.http import create_app
from marketplace.platform import Marketplace
from marketplace.settings import Settings

cli = typer.Typer(help="An open-source B2B marketplace.", no_args_is_help=True)
console = Console()


def _print_keys(marketplace: Marketplace) -> None:
    table = Table(title="Demo API keys (Authorization: Bearer <key>)")
    table.add_column("who")
    table.add_column("role")
    table.add_column("key", no_wrap=True, min_width=46)
    for key in demo_world.demo_keys(marketplace):
        table.add_row(key.who, key.role, key.key)
    console.print(table)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: bool = typer.Option(False, help="load the demo world first"),
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    marketplace = Marketplace(Settings())
    if demo:
        with console.status("loading the demo world"):
            demo_world.load(marketplace)
        _print_keys(marketplace)
    else:
        console.print(f"operator key: {marketplace.operator_key}")
    console.print(f"API and docs on http://{host}:{port}/docs")
    uvicorn.run(create_app(marketplace), host=host, port=port, log_level="info")


@cli.command()
def demo() -> None:
    """Load the demo world and print its keys."""
    marketplace = Marketplace(Settings())
    demo_world.load(marketplace)
    _print_keys(marketplace)
    marketplace.close()


@cli.command()
def rebuild(name: str) -> None:
    """Rebuild a projection from the event store beside the live one, then swap it in."""
    marketplace = Marketplace(Settings())
    with Progress(console=console) as progress:
        task = progress.add_task(f"rebuilding {name}", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        applied = marketplace.projections.rebuild(name, report)
    console.print(f"{name}: rebuilt from {applied} events")
    marketplace.close()


def main() -> None:
    cli()
