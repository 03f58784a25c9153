"""Settings shared by every service: `AKHBAR_*` environment variables or a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; CLI flags override these values."""

    model_config = SettingsConfigDict(
        env_prefix="AKHBAR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    redis_url: str | None = Field(
        default=None,
        description="Broker URL; when unset, `akhbar up` starts an embedded Valkey server.",
    )
    stream_prefix: str = Field(default="akhbar", description="Prefix of every stream and key.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Log level of every service and command."
    )
    corpus_dir: Path = Field(
        default=Path("corpus"), description="Where the store writes the corpus (`*.jsonl`)."
    )
    feeds_file: Path = Field(
        default=Path("feeds.toml"), description="Feeds to poll; a missing file means none."
    )
    state_dir: Path = Field(
        default=Path(".akhbar"),
        description="Where `akhbar up` keeps the embedded server's data between runs.",
    )
    allow_private_networks: bool = Field(
        default=False, description="Let the fetcher reach private and loopback addresses."
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="Attempts at a message before it goes to the dead stream."
    )
    claim_idle_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A message pending this long with its consumer is claimed by another; "
        "keep it well above the longest a parser holds a batch (2 x parser_batch x "
        "parser_extract_timeout: one batch waits in the worker's queue behind another).",
    )
    maintenance_seconds: float = Field(default=10.0, gt=0, description="Trim/cleanup period.")
    stream_emergency_maxlen: int = Field(
        default=2_000_000,
        ge=1000,
        description="Length cap on unacknowledged entries, applied only if consumers are gone "
        "for long.",
    )
    raw_retention_count: int = Field(
        default=500, ge=0, description="Acknowledged raw pages kept for `tail` (pages are large)."
    )
    raw_retention_seconds: float = Field(
        default=3600, ge=0, description="Longest an acknowledged raw page is kept."
    )
    parsed_retention_count: int = Field(
        default=10_000, ge=0, description="Acknowledged corpus records kept in `parsed`."
    )
    parsed_retention_seconds: float = Field(
        default=7 * 24 * 3600, ge=0, description="Longest a record is kept in `parsed`."
    )
    rejected_retention_count: int = Field(
        default=10_000, ge=0, description="Rejections kept in `rejected`."
    )
    rejected_retention_seconds: float = Field(
        default=7 * 24 * 3600, ge=0, description="Longest a rejection is kept."
    )
    dead_retention_count: int = Field(
        default=2_000, ge=0, description="Dead letters kept (a parser's carries its page)."
    )
    dead_retention_seconds: float = Field(
        default=30 * 24 * 3600, ge=0, description="Longest a dead letter is kept."
    )
    stale_consumer_seconds: float = Field(
        default=24 * 3600,
        gt=0,
        description="A consumer idle this long with nothing pending (a killed process) is "
        "removed from its group.",
    )
    raw_backlog_limit: int = Field(
        default=2_000, ge=1, description="Producers pause while raw holds more unprocessed."
    )
    shutdown_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to finish in-flight messages on SIGTERM."
    )

    user_agent: str = Field(
        default="akhbar/0.1 (+https://github.com/akhbar-corpus/akhbar; news corpus builder)",
        description="Sent with every request and matched in robots.txt.",
    )
    fetch_timeout: float = Field(default=20.0, gt=0, description="Seconds for one whole GET.")
    feed_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest feed body, after decompression."
    )
    page_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest page body, after decompression."
    )
    fetch_concurrency: int = Field(
        default=32,
        ge=1,
        description="Polls (and, separately, downloads) in flight at once; per-host limits "
        "still apply. A poll waiting on a site's politeness delay or a slow network holds its "
        "place, so this is well above the cores.",
    )
    host_concurrency: int = Field(default=2, ge=1, description="Downloads per host at once.")
    host_delay: float = Field(default=1.0, ge=0, description="Seconds between starts per host.")
    feeds_reload_seconds: float = Field(
        default=2.0, gt=0, description="How often the fetcher looks for edits of the feeds file."
    )
    max_backoff_seconds: float = Field(
        default=6 * 3600, gt=0, description="Longest wait between polls of a failing feed."
    )

    parser_batch: int = Field(default=8, ge=1, description="Messages a parser reads at once.")
    parser_worker_tasks: int = Field(
        default=5000, ge=1, description="Messages before a parser worker process is replaced."
    )
    parser_worker_max_mb: int = Field(
        default=512,
        ge=64,
        description="Resident memory (MiB) past which a parser worker is replaced after its batch.",
    )
    parser_extract_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a parser worker may spend on one message before it is stopped.",
    )
    parser_max_html_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest HTML page (UTF-8 bytes) extracted."
    )
    languages: list[str] = Field(
        default_factory=lambda: ["ar"],
        description="Languages kept (JSON list); others go to `rejected`.",
    )
    min_text_chars: int = Field(default=200, ge=0, description="Shorter texts go to `rejected`.")

    store_batch: int = Field(default=200, ge=1, description="Messages the store reads at once.")
    store_linger_seconds: float = Field(
        default=0.25,
        ge=0,
        description="After a batch smaller than store_batch, wait this long before reading "
        "again, so that at low rates the store settles fewer, larger batches.",
    )
    store_writer: str | None = Field(
        default=None, description="Name of this store's corpus files; the host name if unset."
    )
    corpus_rotate_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Size at which the store starts a new corpus file.",
    )
    near_dup_threshold: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of word shingles at which a text is a near dup.",
    )
    shingle_size: int = Field(default=3, ge=1, le=8, description="Words per shingle.")
    minhash_perm: int = Field(
        default=128, ge=16, le=128, multiple_of=2, description="MinHash permutations."
    )
    minhash_bands: int = Field(default=8, ge=1, description="LSH bands indexed per document.")
    minhash_rows: int = Field(default=1, ge=1, description="MinHash values per LSH band.")
    near_dup_window_days: int = Field(
        default=30, ge=1, description="Days a stored text stays in the near-duplicate index."
    )
    index_buckets: int = Field(
        default=8192, ge=1, le=65536, description="Redis hashes each dedup index is spread over."
    )

    metrics_port: int = Field(
        default=-1, ge=-1, le=65535, description="Port for /metrics and /healthz; -1 disables."
    )

    consumer_name: str | None = Field(
        default=None, description="Consumer name in its group; unique per process if unset."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value
