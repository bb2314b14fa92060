"""Command line: the only place that reads the environment and builds Settings."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from bot.app import build_app, describe_feed, limits_from, open_store, writer_lock
from bot.core.errors import NewsbotError
from bot.ingest.article import ArticlePage, ArticleReader
from bot.ingest.fetch import Fetcher
from bot.ingest.opml import parse_opml, render_opml
from bot.ingest.parse import ParserPool
from bot.ingest.poll import CycleReport, utcnow
from bot.ingest.safety import AddressPolicy
from bot.nlp.commands import extract_jsonl, parse_text_file, render_analysis, run_eval
from bot.nlp.extract import Article, Extractor
from bot.ops.logs import configure_logging
from bot.platforms.discord.bot import sync_commands
from bot.settings import Settings, load_settings, masked, secret_values
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
    configure_logging(level, json=settings.log_format == "json", secrets=secret_values(settings))
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


@app.command("discord-sync")
def discord_sync(
    ctx: typer.Context,
    global_sync: Annotated[
        bool,
        typer.Option(
            "--global", help="Sync for every server (takes up to an hour to show everywhere)."
        ),
    ] = False,
) -> None:
    """Register the slash commands with Discord: in discord.dev_guild_id, or --global."""
    settings = _settings(ctx)
    if settings.discord.token is None:
        raise _fail("set discord.token (NEWSBOT_DISCORD__TOKEN) first", 2)

    async def _sync() -> list[str]:
        async with build_app(settings) as bot:
            return await sync_commands(settings.discord, bot.desk, global_sync=global_sync)

    names = _run(_sync())
    where = "globally" if global_sync else f"to server {settings.discord.dev_guild_id}"
    typer.echo(f"synced {len(names)} command(s) {where}: {', '.join(sorted(names))}")


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


def _published(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--published must be a date as YYYY-MM-DD, not {value!r}", 2) from None


def _progress(label: str) -> Callable[[int, int], None]:
    """A one-line progress counter on stderr for long batch work."""

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        typer.echo(f"\r{label}: {done}/{total}", err=True, nl=False)
        if end:
            typer.echo("", err=True)

    return show


def _extractor(settings: Settings) -> Extractor:
    try:
        return Extractor(settings.nlp.model, settings.nlp.batch_size)
    except NewsbotError as exc:
        raise _fail(str(exc)) from None


@app.command()
def extract(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            help="A text file (first line = title), an http(s) URL, or - for stdin.",
            show_default=False,
        ),
    ] = None,
    published: Annotated[
        str | None,
        typer.Option(help="Publication date YYYY-MM-DD, to resolve 'on Wednesday' and the like."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON object.")] = False,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            help='Batch: a JSONL file of {"id", "title", "text", "published"?} lines.',
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Batch output file (default: stdout).")] = None,
) -> None:
    """Analyse one article (or a JSONL batch): is it a summit story, and its key facts."""
    settings = _settings(ctx)
    if (source is None) == (jsonl is None):
        raise _fail("give exactly one of PATH|URL|- or --jsonl FILE", 2)
    day = _published(published)
    if jsonl is not None:
        extractor = _extractor(settings)
        if out is None:
            count = extract_jsonl(jsonl, None, extractor, _progress("extracted"), sys.stdout)
        else:
            count = extract_jsonl(jsonl, out, extractor, _progress("extracted"))
            typer.echo(f"wrote {count} line(s) to {out}", err=True)
        return
    assert source is not None
    if source.startswith(("http://", "https://")):
        page = _run(_read_page(settings, source))
        title, text, day = page.title, page.text, day or page.published
    else:
        if source == "-":
            raw = sys.stdin.read()
        else:
            try:
                raw = Path(source).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _fail(f"cannot read {source}: {exc}") from None
        title, text = parse_text_file(raw)
    analysis = _extractor(settings).analyse_one(Article("-", title, text, day))
    if as_json:
        typer.echo(json.dumps(analysis.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_analysis(analysis))


async def _read_page(settings: Settings, url: str) -> ArticlePage:
    async with Fetcher(AddressPolicy(settings.allow_hosts), limits_from(settings)) as fetcher:
        return await ArticleReader(fetcher).page(url)


_CACHE_HELP = "Keep spaCy's parses in ~/.cache/newsbot (keyed by content; never changes results)."


@app.command("eval")
def evaluate_gold(
    ctx: typer.Context,
    gold: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled JSONL shaped like the dev set (with --cv: one or more; default: "
            "../shared/corpus/train/*.jsonl and dev/dev.jsonl).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    misses: Annotated[bool, typer.Option(help="List the disagreements too.")] = True,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Retrain on each split and score its unseen part: 5 folds, leave one source "
            "out, old → modern (with and without borderline items).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the learners (--cv).")] = 13,
    cache: Annotated[bool, typer.Option(help=_CACHE_HELP)] = True,
) -> None:
    """Score the extractor on a labelled file: summit P/R/F1, hard FPs, facts accuracy."""
    if cv:
        typer.echo(_cross_validate(gold or [], seed, cache))
        return
    if not gold or len(gold) != 1:
        raise _fail("give one labelled JSONL file (or --cv to cross-validate)", 2)
    extractor = _extractor(_settings(ctx))
    try:
        report = run_eval(gold[0], extractor, _progress("evaluated"))
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"{gold[0]} is not a labelled JSONL file: {exc}") from None
    typer.echo(report.render(misses=misses))


def _cross_validate(gold: list[Path], seed: int, cache: bool) -> str:
    from bot.nlp.commands import labelled_files, run_cv  # noqa: PLC0415  (heavy; loaded on use)

    try:
        return run_cv(gold or labelled_files(), seed, _parse_cache(cache), _step_progress)
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"cannot cross-validate: {exc}") from None


@app.command()
def train(
    data: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled JSONL files (default: ../shared/corpus/train/*.jsonl and "
            "dev/dev.jsonl).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the model files (default: the package's bot/nlp/models)."),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the learners; same data + seed = same model.")
    ] = 13,
    cache: Annotated[bool, typer.Option(help=_CACHE_HELP)] = True,
) -> None:
    """Rebuild the shipped summit model from labelled articles (seeded, reproducible)."""
    from bot.nlp.commands import labelled_files, train_models  # noqa: PLC0415  (heavy; loaded on use)
    from bot.nlp.learn import MODELS_DIR  # noqa: PLC0415  (heavy; loaded on use)

    try:
        written = train_models(
            data or labelled_files(), out or MODELS_DIR, seed, _parse_cache(cache), _step_progress
        )
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"cannot train: {exc}") from None
    for path in written:
        typer.echo(f"wrote {path}")


def _parse_cache(enabled: bool) -> Path | None:
    """spaCy parses of the labelled articles are kept here between runs (keyed by content)."""
    return Path.home() / ".cache" / "newsbot" / "parses" if enabled else None


def _step_progress(label: str, done: int, total: int) -> None:
    typer.echo(f"{label}: {done}/{total}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()
