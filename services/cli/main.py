"""The `akhbar` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.common import CorpusOpt, FeedsOpt, PrefixOpt, RedisOpt, load_settings
from services.cli.logs import configure_logging
from services.core.errors import AkhbarError, ConfigError

app = typer.Typer(
    name="akhbar",
    help="Turn the live Arabic news web into a clean, deduplicated text corpus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(exc: AkhbarError) -> typer.Exit:
    typer.echo(f"akhbar: {exc}", err=True)
    return typer.Exit(code=2)


def _require_existing(paths: list[Path]) -> None:
    for path in paths:
        if not path.exists():
            raise _fail(ConfigError(f"{path} does not exist"))


@app.command()
def up(
    replay: Annotated[
        list[Path] | None, typer.Option("--replay", help="Also replay this folder.")
    ] = None,
    parsers: Annotated[int, typer.Option("--parsers", min=1, help="Parser processes.")] = 1,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit 0 once everything is processed.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="With --until-idle: fail after N seconds.")
    ] = None,
    feeds: FeedsOpt = None,
    corpus: CorpusOpt = None,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Run fetcher, parsers and store (and an embedded Valkey unless AKHBAR_REDIS_URL is set)."""
    from services.cli.up import UpOptions, run_up

    settings = load_settings(
        feeds_file=feeds, corpus_dir=corpus, redis_url=redis_url, stream_prefix=prefix
    )
    configure_logging(settings.log_level)
    _require_existing(replay or [])
    options = UpOptions(
        replay=list(replay or []), parsers=parsers, until_idle=until_idle, timeout=timeout
    )
    try:
        code = run_up(settings, options)
    except AkhbarError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(code=code)


def _run_service(build: Any) -> None:
    try:
        application = build()
    except AkhbarError as exc:
        raise _fail(exc) from exc
    asyncio.run(application.run())


@app.command()
def fetcher(
    replay: Annotated[
        list[Path] | None, typer.Option("--replay", help="Replay this folder first.")
    ] = None,
    feeds: FeedsOpt = None,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Run the fetcher service: poll the feeds file's feeds, publish raw documents."""
    from services.fetcher.app import build_app

    settings = load_settings(feeds_file=feeds, redis_url=redis_url, stream_prefix=prefix)
    configure_logging(settings.log_level)
    _run_service(lambda: build_app(settings, list(replay or [])))


@app.command()
def parser(redis_url: RedisOpt = None, prefix: PrefixOpt = None) -> None:
    """Run one parser service: raw documents to corpus records."""
    from services.parser.app import build_app

    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    configure_logging(settings.log_level)
    _run_service(lambda: build_app(settings))


@app.command()
def store(corpus: CorpusOpt = None, redis_url: RedisOpt = None, prefix: PrefixOpt = None) -> None:
    """Run the store service: corpus records appended once to the corpus."""
    from services.store.app import build_app

    settings = load_settings(corpus_dir=corpus, redis_url=redis_url, stream_prefix=prefix)
    configure_logging(settings.log_level)
    _run_service(lambda: build_app(settings))


@app.command("replay")
def replay_command(
    folders: Annotated[list[Path], typer.Argument(help="Folders (or files) to publish.")],
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Publish every .txt, .html and .htm file of the folders as raw documents."""
    from services.cli.common import server_settings
    from services.cli.publish import replay_folders

    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    configure_logging(settings.log_level)
    _require_existing(folders)
    try:
        with server_settings(settings, start_if_stopped=False) as resolved:
            count = asyncio.run(replay_folders(resolved, folders))
    except AkhbarError as exc:
        raise _fail(exc) from exc
    typer.echo(f"published {count} documents to {settings.stream_prefix}:raw")


@app.command()
def reindex(corpus: CorpusOpt = None, redis_url: RedisOpt = None, prefix: PrefixOpt = None) -> None:
    """Rebuild the dedup index (exact and near) from the corpus; stop the stores first."""
    from services.cli.common import with_client
    from services.store.reindex import reindex as rebuild_index

    settings = load_settings(corpus_dir=corpus, redis_url=redis_url, stream_prefix=prefix)
    configure_logging(settings.log_level)
    report = with_client(settings, lambda client: rebuild_index(client, settings))
    typer.echo(
        f"index rebuilt: {report.records} records from {settings.corpus_dir} "
        f"({report.removed_keys} old keys removed)"
    )


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="Output format: parquet.")] = "parquet",
    corpus: CorpusOpt = None,
) -> None:
    """Write the whole corpus to one file (Parquet: list columns, UTC timestamps)."""
    from services.store.export import export_corpus

    settings = load_settings(corpus_dir=corpus)
    configure_logging(settings.log_level)
    try:
        count = export_corpus(settings.corpus_dir, out, fmt)
    except AkhbarError as exc:
        raise _fail(exc) from exc
    typer.echo(f"exported {count} records from {settings.corpus_dir} to {out}")


def _register_groups() -> None:
    from services.cli.dead import app as dead_app
    from services.cli.feeds import app as feeds_app
    from services.cli.stats import stats
    from services.cli.tail import tail

    app.command()(tail)
    app.command()(stats)
    app.add_typer(feeds_app, name="feeds")
    app.add_typer(dead_app, name="dead")


_register_groups()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
