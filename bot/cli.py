"""Command line: the only place that reads the environment and builds Settings.

Start-up must feel instant, so this module imports only typer and our error tree: each
command imports what it needs (spaCy, SQLAlchemy, aiohttp, Discord, Slack) in its own body.
A new command follows the same shape: a small function, its imports inside.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.core.errors import NewsbotError

if TYPE_CHECKING:
    from bot.core.stories import Digest, Story
    from bot.ingest.article import ArticlePage
    from bot.nlp.extract import Extractor
    from bot.settings import Settings
    from bot.stories.desk import Desk

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
    rich_markup_mode=None,  # plain click help: importing rich costs half a second
)
feeds_app = typer.Typer(
    help="Add, list, remove, import and export watched feeds.", rich_markup_mode=None
)
app.add_typer(feeds_app, name="feeds")

stories_app = typer.Typer(
    help="List, search and show summit stories (as /summit does in chat).", rich_markup_mode=None
)
app.add_typer(stories_app, name="stories")

log = logging.getLogger("newsbot")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEBUG_HINT = "rerun with --log-level DEBUG for the details"


def _fail(message: str, code: int = 1) -> typer.Exit:
    """One red line on stderr; the traceback, if any, only reaches a DEBUG log."""
    log.debug("failed: %s", message, exc_info=sys.exc_info()[0] is not None)
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings(ctx: typer.Context) -> Settings:
    from bot.settings import Settings

    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning our errors into one clear line and exit code 1."""
    import asyncio

    try:
        return asyncio.run(coro)
    except NewsbotError as exc:
        raise _fail(str(exc)) from None


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"newsbot {version('newsbot')}")
        raise typer.Exit


@app.callback()
def main_callback(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(help="Settings file (default: config/newsbot.toml when it exists)."),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help="DEBUG, INFO, WARNING or ERROR (overrides settings); DEBUG adds tracebacks."
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Read the settings once and configure logging."""
    from pydantic import ValidationError

    from bot.ops.logs import configure_logging
    from bot.settings import load_settings, secret_values

    level = (log_level or "").upper()
    if log_level is not None and level not in LOG_LEVELS:
        raise _fail(f"--log-level must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}", 2)
    try:
        settings = load_settings(config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise _fail(f"invalid settings: {problems}", 2) from None
    except NewsbotError as exc:
        raise _fail(str(exc), 2) from None
    configure_logging(
        level or settings.log_level,
        json=settings.log_format == "json",
        secrets=secret_values(settings),
    )
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
    from bot.app import writer_lock
    from bot.ops.preflight import check_database_location

    settings = _settings(ctx)
    if show_all:
        settings = settings.model_copy(
            update={"console": settings.console.model_copy(update={"show_all": True})}
        )
    try:
        check_database_location(settings.database_url)
        with writer_lock(settings):
            summary = _run(_run_bot(settings, once=once))
    except NewsbotError as exc:
        raise _fail(str(exc)) from None
    if summary is not None:
        typer.echo(summary, err=True)


async def _run_bot(settings: Settings, *, once: bool) -> str | None:
    import asyncio
    import signal

    from bot.app import build_app
    from bot.ops.summary import cycle_summary

    async with build_app(settings) as bot:
        if once:
            report = await bot.run_once()
            return cycle_summary(report, await bot.store.list_feeds())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await bot.run_forever(stop)
        return None


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
    from bot.app import build_app
    from bot.platforms.discord.bot import sync_commands

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
    from bot.settings import masked

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
    title: Annotated[
        str | None, typer.Option(help="Name shown in alerts (kept: polls never replace it).")
    ] = None,
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
    from bot.ingest.poll import utcnow
    from bot.ingest.safety import AddressPolicy
    from bot.ops.resources import limits_from, open_store
    from bot.storage.store import DuplicateFeed

    policy = AddressPolicy(settings.allow_hosts)
    normal = _allowed(policy.check_url, url)
    if check:
        from bot.ingest.fetch import Fetcher
        from bot.ingest.pool import ParserPool

        async with Fetcher(policy, limits_from(settings)) as fetcher:
            fetched = await _allowed_async(fetcher.fetch(normal))
        async with ParserPool(1, settings.parse.memory_limit_mb) as parser:
            parsed = await parser.parse(fetched.body, fetched.headers, fetched.final_url)
        title = title or parsed.title
        normal = fetched.permanent_url or normal
    async with open_store(settings) as store:
        try:
            return await store.add_feed(normal, utcnow(), title=title, interval_seconds=interval)
        except DuplicateFeed as exc:
            raise NewsbotError(f"{exc}; see `newsbot feeds list`") from None


ALLOW_HINT = (
    "if you trust it, add the host to allow_hosts (e.g. NEWSBOT_ALLOW_HOSTS=127.0.0.1) and retry"
)


def _allowed(check: Callable[[str], str], url: str) -> str:
    """``check(url)``, with a refused private address naming the setting that allows it."""
    from bot.core.errors import AddressNotAllowed

    try:
        return check(url)
    except AddressNotAllowed as exc:
        raise _refused(exc) from None


async def _allowed_async(fetching: Coroutine[Any, Any, T]) -> T:
    from bot.core.errors import AddressNotAllowed

    try:
        return await fetching
    except AddressNotAllowed as exc:
        raise _refused(exc) from None


def _refused(exc: NewsbotError) -> NewsbotError:
    message = str(exc)
    if "not a public address" in message and "ALLOW_HOSTS" not in message:
        message = f"{message}: {ALLOW_HINT}"
    return NewsbotError(message)


@feeds_app.command("list")
def feeds_list(ctx: typer.Context) -> None:
    """List watched feeds with their health."""
    from bot.ops.resources import list_feeds
    from bot.platforms.console.render import feed_line

    lines = [feed_line(feed) for feed in _run(list_feeds(_settings(ctx)))]
    typer.echo("\n".join(lines) if lines else "no feeds yet: add one with `newsbot feeds add URL`")


@feeds_app.command("remove")
def feeds_remove(
    ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Id from `feeds list`.")]
) -> None:
    """Stop watching a feed."""
    from bot.ops.resources import open_store

    async def _remove() -> str:
        async with open_store(_settings(ctx)) as store:
            return (await store.remove_feed(feed_id)).url

    typer.echo(f"removed feed {feed_id} <{_run(_remove())}>")


@feeds_app.command("enable")
def feeds_enable(
    ctx: typer.Context, feed_id: Annotated[int, typer.Argument(help="Id from `feeds list`.")]
) -> None:
    """Re-enable a feed that was disabled after repeated failures."""
    from bot.ingest.poll import utcnow
    from bot.ops.resources import open_store

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
    from bot.ingest.opml import parse_opml
    from bot.ingest.poll import utcnow
    from bot.ingest.safety import AddressPolicy
    from bot.ops.resources import open_store

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
    from bot.ingest.opml import render_opml
    from bot.ops.resources import list_feeds

    feeds = _run(list_feeds(_settings(ctx)))
    data = render_opml((feed.url, feed.title) for feed in feeds)
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
    from bot.nlp.extract import Extractor

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
    from bot.nlp.commands import extract_jsonl, parse_text_file, render_analysis
    from bot.nlp.extract import Article

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
    from bot.ingest.article import ArticleReader
    from bot.ingest.fetch import Fetcher
    from bot.ingest.safety import AddressPolicy
    from bot.ops.resources import limits_from

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
    from bot.nlp.commands import run_eval

    extractor = _extractor(_settings(ctx))
    try:
        report = run_eval(gold[0], extractor, _progress("evaluated"))
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"{gold[0]} is not a labelled JSONL file: {exc}") from None
    typer.echo(report.render(misses=misses))


def _cross_validate(gold: list[Path], seed: int, cache: bool) -> str:
    from bot.nlp.commands import labelled_files, run_cv

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
    from bot.nlp.commands import labelled_files, train_models
    from bot.nlp.learn import MODELS_DIR

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


# --- the terminal as a destination: what /summit shows in chat ---------------------------------


@contextlib.asynccontextmanager
async def _desk(settings: Settings, since: timedelta | None = None) -> AsyncIterator[Desk]:
    """The chat commands' Desk over the store; ``since`` widens or narrows "current"."""
    from bot.core.errors import InvalidInput
    from bot.core.models import FeedInfo
    from bot.ops.resources import open_store
    from bot.storage.newsdesk import Repositories
    from bot.stories.desk import Desk

    async def no_add(url: str, _owner: str) -> FeedInfo:
        raise InvalidInput(f"add feeds with `newsbot feeds add {url}`")

    async with open_store(settings) as store:
        repositories = Repositories.over(store.engine)
        if since is None:
            yield Desk(repositories, store, no_add, clock=_now)
        else:
            yield Desk(repositories, store, no_add, clock=_now, current=since)


def _now() -> datetime:
    return datetime.now(UTC)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@stories_app.command("list")
def stories_list(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, max=25, help="How many stories.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """The most recently updated summit stories."""
    from bot.app import TERMINAL
    from bot.platforms.console.render import render_story_list, story_json

    async def _latest() -> list[Story]:
        async with _desk(_settings(ctx)) as desk:
            return await desk.latest(TERMINAL, count)

    stories = _run(_latest())
    if as_json:
        _echo_json([story_json(story) for story in stories])
    else:
        typer.echo(
            render_story_list(stories, "No summit stories yet: `newsbot run` collects them.")
        )


@stories_app.command("search")
def stories_search(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="Words that must all appear.")],
    count: Annotated[int, typer.Option(min=1, max=25, help="At most this many.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Stories containing every word of the query (title, summary, people, places)."""
    from bot.app import TERMINAL
    from bot.platforms.console.render import render_story_list, story_json

    text = " ".join(query)

    async def _search() -> list[Story]:
        async with _desk(_settings(ctx)) as desk:
            return await desk.search(TERMINAL, text, count)

    stories = _run(_search())
    if as_json:
        _echo_json([story_json(story) for story in stories])
    else:
        typer.echo(render_story_list(stories, f"No story matches {text!r}."))


@stories_app.command("show")
def stories_show(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Id from `stories list` or `stories search`.")],
    as_json: JsonOption = False,
) -> None:
    """Everything about one story: facts, sources, changes, quotes and why it is a summit."""
    from bot.app import TERMINAL
    from bot.platforms.console.render import render_story, story_json

    async def _show() -> Story:
        async with _desk(_settings(ctx)) as desk:
            return await desk.story(TERMINAL, story_id)

    story = _run(_show())
    typer.echo(
        json.dumps(story_json(story), ensure_ascii=False, indent=2)
        if as_json
        else render_story(story)
    )


def _since(value: str | None) -> timedelta | None:
    """``3d``, ``12h`` or a date ``YYYY-MM-DD`` as a window ending now."""
    if value is None:
        return None
    units = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
    number, unit = value[:-1], value[-1:].lower()
    if unit in units and number.isdigit() and int(number) > 0:
        return int(number) * units[unit]
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _fail(
            f"--since must be like 3d, 12h, 2w or a date YYYY-MM-DD, not {value!r}", 2
        ) from None
    window = _now() - datetime.combine(day, datetime.min.time(), UTC)
    if window <= timedelta(0):
        raise _fail(f"--since {value} is in the future: give a past date", 2)
    return window


@app.command()
def digest(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Stories updated since: 3d, 12h, 2w or YYYY-MM-DD (default 14d)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A digest of current summit stories, as the daily one (with the terminal's filters)."""
    from bot.app import TERMINAL
    from bot.platforms.console.render import digest_json, render_digest

    window = _since(since)

    async def _digest() -> Digest:
        async with _desk(_settings(ctx), window) as desk:
            return await desk.digest_now(TERMINAL)

    result = _run(_digest())
    typer.echo(
        json.dumps(digest_json(result), ensure_ascii=False, indent=2)
        if as_json
        else render_digest(result)
    )


@app.command()
def upcoming(
    ctx: typer.Context,
    ics: Annotated[
        Path | None, typer.Option(help="Also write the dated summits as an iCalendar file.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Summits still ahead or under way, soonest first."""
    from bot.app import TERMINAL
    from bot.platforms.console.render import render_upcoming, story_json

    async def _upcoming() -> tuple[list[Story], bytes]:
        async with _desk(_settings(ctx)) as desk:
            stories = await desk.upcoming(TERMINAL)
            return stories, desk.calendar(stories)

    stories, calendar = _run(_upcoming())
    if ics is not None:
        try:
            ics.write_bytes(calendar)
        except OSError as exc:
            raise _fail(f"cannot write {ics}: {exc.strerror}") from None
        typer.echo(f"wrote {ics}", err=True)
    if as_json:
        _echo_json([story_json(story) for story in stories])
    else:
        typer.echo(render_upcoming(stories))


@app.command()
def replay(
    ctx: typer.Context,
    jsonl: Annotated[
        Path,
        typer.Option(
            help='Items as JSONL: {"id", "title", "text", "published"?, "source"?} per line.',
            exists=True,
            dir_okay=False,
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Output file (default: stdout).")] = None,
    assume_summit: Annotated[
        bool,
        typer.Option(help="File every item as a summit report, to score merging alone."),
    ] = False,
) -> None:
    """Replay items in publication order through extract -> stories (no chat, no network).

    Writes one line per item, {"id", "story", "event": "new|update|none", "changed"}, then
    one line {"stories": [...]} with the final stories and their sources.
    """
    # Imported here so the other commands never load stories and storage (lazy CLI).
    from bot.nlp.extract import Article
    from bot.stories.replay import read_items
    from bot.stories.replay import replay as run_replay

    settings = _settings(ctx)
    try:
        items = read_items(jsonl.read_text(encoding="utf-8").splitlines())
    except (NewsbotError, UnicodeDecodeError) as exc:
        raise _fail(f"{jsonl}: {exc}", 2) from None
    extractor = _extractor(settings)

    def analyse(articles: Any) -> list[dict[str, Any]]:
        return [a.to_json() for a in extractor.analyse([Article(*article) for article in articles])]

    lines, stories = _run(
        run_replay(items, analyse, assume_summit=assume_summit, progress=_progress("replayed"))
    )
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    text += json.dumps({"stories": stories}, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(lines)} item(s) and {len(stories)} story(ies) to {out}", err=True)


def main() -> None:
    """Console-script entry point: every error becomes one line; tracebacks only at DEBUG."""
    try:
        app()
    except NewsbotError as exc:
        _exit(str(exc))
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        _exit(f"{exc.strerror or exc}{where}: check the path and its permissions; {DEBUG_HINT}")
    except Exception as exc:
        _exit(f"unexpected {type(exc).__name__}: {exc}; {DEBUG_HINT}")


def _exit(message: str) -> None:
    log.debug("stopped by an error", exc_info=True)
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise SystemExit(1)
