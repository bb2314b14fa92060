"""Command line: the only place that reads the environment and builds Settings."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from bot.app import build_app, describe_feed, limits_from, open_store, writer_lock
from bot.core.errors import NewsbotError
from bot.ingest.fetch import Fetcher
from bot.ingest.opml import parse_opml, render_opml
from bot.ingest.parse import ParserPool
from bot.ingest.poll import CycleReport, utcnow
from bot.ingest.safety import AddressPolicy
from bot.settings import Settings, load_settings, masked
from bot.storage.store import DuplicateFeed

T = TypeVar("T")

app = typer.Typer(
    help=(
        "newsbot watches news feeds and tells you about diplomatic summits.\n\n"
        "With no chat tokens configured it prints new items to this terminal; "
        "settings come from config/newsbot.toml, NEWSBOT_* variables and /run/secrets."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
feeds_app = typer.Typer(help="Add, list, remove, import and export watched feeds.")
app.add_typer(feeds_app, name="feeds")

log = logging.getLogger("newsbot")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning our errors into one clear line and exit code 1."""
    try:
        return asyncio.run(coro)
    except NewsbotError as exc:
        raise _fail(str(exc)) from None


@app.callback()
def main_callback(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(help="Settings file (default: config/newsbot.toml when it exists)."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (overrides settings).")
    ] = None,
) -> None:
    """Read the settings once and configure logging."""
    try:
        settings = load_settings(config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise _fail(f"invalid settings: {problems}", 2) from None
    except NewsbotError as exc:
        raise _fail(str(exc), 2) from None
    level = (log_level or settings.log_level).upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = settings


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once, then exit.")] = False,
    show_all: Annotated[
        bool,
        typer.Option("--show-all", help="Terminal: print every new item, not only summit stories."),
    ] = False,
) -> None:
    """Poll feeds and announce new items (forever, or one cycle with --once)."""
    settings = _settings(ctx)
    if show_all:
        settings = settings.model_copy(
            update={"console": settings.console.model_copy(update={"show_all": True})}
        )
    try:
        with writer_lock(settings):
            report = _run(_run_bot(settings, once=once))
    except NewsbotError as exc:
        raise _fail(str(exc)) from None
    if report is not None:
        _print_report(report)


async def _run_bot(settings: Settings, *, once: bool) -> CycleReport | None:
    async with build_app(settings) as bot:
        if once:
            return await bot.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await bot.run_forever(stop)
        return None


def _print_report(report: CycleReport) -> None:
    outcomes = ", ".join(f"{count} {name}" for name, count in sorted(report.outcomes.items()))
    typer.echo(
        f"polled {report.feeds} feed(s) in {report.seconds:.1f} s: {outcomes or 'nothing'}; "
        f"{report.new_items} new item(s) announced",
        err=True,
    )
    for url, error in sorted(report.errors.items()):
        typer.echo(f"  failed: {error}" if url in error else f"  failed: {url}: {error}", err=True)


@app.command("check-config")
def check_config(ctx: typer.Context) -> None:
    """Print the effective settings (secrets masked) and which sinks are active."""
    settings = _settings(ctx)
    typer.echo(json.dumps(masked(settings), indent=2, sort_keys=True))
    sinks = [
        name
        for name, token in (
            ("discord", settings.discord.token),
            ("slack", settings.slack.bot_token),
        )
        if token is not None
    ]
    typer.echo(f"sinks: {', '.join(sinks) if sinks else 'terminal (no chat tokens configured)'}")


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="http(s) URL of an RSS, Atom or JSON feed.")],
    title: Annotated[str | None, typer.Option(help="Name shown in alerts.")] = None,
    interval: Annotated[
        int | None, typer.Option(min=60, help="Poll interval in seconds (default from settings).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Fetch and parse the feed before adding it.")
    ] = True,
) -> None:
    """Watch a new feed (checked: it must be reachable and parse as a feed)."""
    settings = _settings(ctx)
    feed = _run(_add_feed(settings, url, title, interval, check=check))
    typer.echo(f"added feed {feed.id}: {feed.title or '(untitled)'} <{feed.url}>")


async def _add_feed(
    settings: Settings, url: str, title: str | None, interval: int | None, *, check: bool
) -> Any:
    policy = AddressPolicy(settings.allow_hosts)
    normal = policy.check_url(url)
    if check:
        async with Fetcher(policy, limits_from(settings)) as fetcher:
            fetched = await fetcher.fetch(normal)
        async with ParserPool(1, settings.parse.memory_limit_mb) as parser:
            parsed = await parser.parse(fetched.body, fetched.headers, fetched.final_url)
        title = title or parsed.title
        normal = fetched.permanent_url or normal
    async with open_store(settings) as store:
        try:
            return await store.add_feed(normal, utcnow(), title=title, interval_seconds=interval)
        except DuplicateFeed as exc:
            raise NewsbotError(f"{exc}; see `newsbot feeds list`") from None


@feeds_app.command("list")
def feeds_list(ctx: typer.Context) -> None:
    """List watched feeds with their health."""

    async def _list() -> list[str]:
        async with open_store(_settings(ctx)) as store:
            return [describe_feed(feed) for feed in await store.list_feeds()]

    lines = _run(_list())
    typer.echo("\n".join(lines) if lines else "no feeds yet: add one with `newsbot feeds add URL`")


@feeds_app.command("remove")
def feeds_remove(
    ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Id from `feeds list`.")]
) -> None:
    """Stop watching a feed."""

    async def _remove() -> str:
        async with open_store(_settings(ctx)) as store:
            return (await store.remove_feed(feed_id)).url

    typer.echo(f"removed feed {feed_id} <{_run(_remove())}>")


@feeds_app.command("enable")
def feeds_enable(
    ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Id from `feeds list`.")]
) -> None:
    """Re-enable a feed that was disabled after repeated failures."""

    async def _enable() -> str:
        async with open_store(_settings(ctx)) as store:
            return (await store.enable_feed(feed_id, utcnow())).url

    typer.echo(f"enabled feed {feed_id} <{_run(_enable())}>; it is polled at the next cycle")


@feeds_app.command("import")
def feeds_import(
    ctx: typer.Context,
    opml_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Add every feed of an OPML file (duplicates and refused URLs are reported, not fatal)."""
    settings = _settings(ctx)
    try:
        entries = parse_opml(opml_file.read_bytes())
    except NewsbotError as exc:
        raise _fail(f"{opml_file}: {exc}") from None

    async def _import() -> tuple[int, list[str]]:
        policy = AddressPolicy(settings.allow_hosts)
        added, problems = 0, []
        async with open_store(settings) as store:
            with typer.progressbar(entries, label="importing", file=sys.stderr) as progress:
                for entry in progress:
                    try:
                        await store.add_feed(policy.check_url(entry.url), utcnow(), entry.title)
                        added += 1
                    except NewsbotError as exc:
                        problems.append(f"{entry.url}: {exc}")
        return added, problems

    added, problems = _run(_import())
    for problem in problems:
        typer.echo(f"  skipped {problem}", err=True)
    typer.echo(f"imported {added} of {len(entries)} feed(s)")


@feeds_app.command("export")
def feeds_export(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Write every watched feed as OPML 2.0."""

    async def _export() -> bytes:
        async with open_store(_settings(ctx)) as store:
            return render_opml((feed.url, feed.title) for feed in await store.list_feeds())

    data = _run(_export())
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {out}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()
