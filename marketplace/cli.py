"""The `marketplace` command: serve, demo, rebuild (and, distributed, relay and project)."""

import gc
import signal
import threading
from functools import partial
from pathlib import Path

import typer
import uvicorn
from prometheus_client import start_http_server
from rich.console import Console
from rich.progress import Progress

from marketplace import demo as demo_world
from marketplace.adapters.logs import configure_logging
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from marketplace.web.asyncapi import DOCUMENT, render
from marketplace.web.einvoices import mail_attachment
from projections.consumer import KafkaProjector

cli = typer.Typer(help="An open-source B2B marketplace.", no_args_is_help=True)
console = Console()


def _print_keys(marketplace: Marketplace) -> None:
    """One block per demo person, one value per line, printed whole: a table would cut the
    passwords and keys in an 80-column terminal or a log."""
    lines = ["Demo people: sign in at / with email and password; programs use the API key", ""]
    for key in demo_world.demo_keys(marketplace):
        lines += [
            f"{key.who} ({key.role})",
            f"  email     {key.email}",
            f"  password  {key.password}",
            f"  API key   {key.key}",
            "",
        ]
    print("\n".join(lines), flush=True)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: bool = typer.Option(False, help="load the demo world first"),
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    configure_logging()
    marketplace = Marketplace(Settings())
    if demo:
        with console.status("loading the demo world"):
            demo_world.load(marketplace)
        _print_keys(marketplace)
    elif marketplace.operator_key_generated:
        console.print(
            f"operator key (generated now, shown only this once): {marketplace.operator_key}"
        )
    else:
        console.print("operator key: as set in MARKETPLACE_OPERATOR_KEY or printed when generated")
    console.print(f"Storefront on http://{host}:{port}/ and API docs on http://{host}:{port}/docs")
    app = create_app(marketplace)
    # What start-up built lives as long as the process: left out of the collector's full
    # passes, which otherwise walk all of it and stall every request for tens of ms.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=None)
    marketplace.close()


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


@cli.command()
def asyncapi(
    output: Path = typer.Option(DOCUMENT, help="where to write it; - for standard output"),
) -> None:
    """Write the event stream's AsyncAPI 3.0 document, generated from the event classes."""
    text = render()
    if str(output) == "-":
        console.print_json(text)
    else:
        output.write_text(text)
        console.print(f"wrote {output}")


def _serve_metrics(port: int | None) -> None:
    if port:
        start_http_server(port)


def _until_signalled() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@cli.command()
def relay(metrics_port: int | None = typer.Option(None, help="serve /metrics here")) -> None:
    """Publish every stored event to Kafka, in order per aggregate, at least once."""
    configure_logging()
    settings = Settings()
    if not settings.kafka_bootstrap:
        raise typer.BadParameter("set MARKETPLACE_KAFKA_BOOTSTRAP to run the relay")
    _serve_metrics(metrics_port)
    marketplace = Marketplace(settings, process="relay")
    Relay(settings, marketplace.db, marketplace.events).run(_until_signalled())
    marketplace.close()


@cli.command()
def project(
    name: list[str] = typer.Option([], help="projections to run (default: all)"),
    metrics_port: int | None = typer.Option(None, help="serve /metrics here"),
) -> None:
    """Run projections as Kafka consumer groups, applying each event exactly once."""
    configure_logging()
    settings = Settings()
    if not settings.kafka_bootstrap:
        raise typer.BadParameter("set MARKETPLACE_KAFKA_BOOTSTRAP to run projections")
    _serve_metrics(metrics_port)
    marketplace = Marketplace(settings, process="project")
    # The notifier is one of the projections; its outbox is delivered from here too.
    marketplace.mail_attachments = partial(mail_attachment, marketplace)
    marketplace.start_sending()
    stop = _until_signalled()
    threads = [
        threading.Thread(
            target=KafkaProjector(settings, marketplace.projections, n).run,
            args=(stop,),
            name=f"project-{n}",
        )
        for n in (name or marketplace.projections.names)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    marketplace.close()


def main() -> None:
    cli()
