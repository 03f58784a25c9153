"""The `akhbar` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.logs import configure_logging
from services.core.errors import AkhbarError, ConfigError
from services.core.settings import Settings

app = typer.Typer(
    name="akhbar",
    help="Turn the live Arabic news web into a clean, deduplicated text corpus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

RedisOpt = Annotated[str | None, typer.Option("--redis-url", help="Overrides AKHBAR_REDIS_URL.")]
CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="Overrides AKHBAR_CORPUS_DIR.")]
FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="Overrides AKHBAR_FEEDS_FILE.")]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="Overrides AKHBAR_STREAM_PREFIX.")]


def load_settings(**overrides: Any) -> Settings:
    """Settings from env and `.env`, with the CLI flags that were given on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)


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

    configure_logging()
    settings = load_settings(
        feeds_file=feeds, corpus_dir=corpus, redis_url=redis_url, stream_prefix=prefix
    )
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

    configure_logging()
    settings = load_settings(feeds_file=feeds, redis_url=redis_url, stream_prefix=prefix)
    _run_service(lambda: build_app(settings, list(replay or [])))


@app.command()
def parser(redis_url: RedisOpt = None, prefix: PrefixOpt = None) -> None:
    """Run one parser service: raw documents to corpus records."""
    from services.parser.app import build_app

    configure_logging()
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    _run_service(lambda: build_app(settings))


@app.command()
def store(corpus: CorpusOpt = None, redis_url: RedisOpt = None, prefix: PrefixOpt = None) -> None:
    """Run the store service: corpus records appended once to the corpus."""
    from services.store.app import build_app

    configure_logging()
    settings = load_settings(corpus_dir=corpus, redis_url=redis_url, stream_prefix=prefix)
    _run_service(lambda: build_app(settings))


@app.command("replay")
def replay_command(
    folders: Annotated[list[Path], typer.Argument(help="Folders (or files) to publish.")],
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Publish every .txt, .html and .htm file of the folders as raw documents."""
    from services.cli.publish import replay_folders

    configure_logging()
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    _require_existing(folders)
    try:
        count = asyncio.run(replay_folders(settings, folders))
    except AkhbarError as exc:
        raise _fail(exc) from exc
    typer.echo(f"published {count} documents to {settings.stream_prefix}:raw")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
