"""A corpus folder's manifest, its record count, and the assessment of an index against it."""

import json
import threading
from pathlib import Path

import pytest

from services.core.errors import ConfigError
from services.store.corpus import CorpusWriter, corpus_files, iter_records
from services.store.export import export_corpus
from services.store.identity import (
    MANIFEST,
    Binding,
    CorpusManifest,
    assess,
    count_records,
    ensure_manifest,
    read_manifest,
)
from tests.store.factory import record

MANIFEST_A = CorpusManifest("a" * 32, "2024-01-01T00:00:00+00:00")


def test_manifest_written_once_and_read_back(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    assert read_manifest(corpus) is None
    first, created = ensure_manifest(corpus)
    assert created
    again, created_again = ensure_manifest(corpus)
    assert (again, created_again) == (first, False)
    on_disk = json.loads((corpus / MANIFEST).read_text())
    assert on_disk == {"id": first.id, "created_at": first.created_at}
    assert len(first.id) == 32
    # No temporary file is left behind.
    assert [p.name for p in corpus.iterdir()] == [MANIFEST]


def test_stores_starting_together_on_a_new_folder_get_one_id(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    results: list[tuple[CorpusManifest, bool]] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(ensure_manifest(corpus))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({m.id for m, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_a_foreign_corpus_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text('{"rows": 3}')
    with pytest.raises(ConfigError, match="not a corpus manifest"):
        ensure_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ConfigError, match="not a readable corpus manifest"):
        read_manifest(tmp_path)


def test_readers_of_the_corpus_never_take_the_manifest_for_data(tmp_path: Path) -> None:
    ensure_manifest(tmp_path)
    writer = CorpusWriter(tmp_path, "w", 1 << 20)
    writer.append([record("a", "https://x.com/a", "نص").model_dump_json()])
    assert [p.name for p in corpus_files(tmp_path)] == ["w-00001.jsonl"]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    assert export_corpus(tmp_path, tmp_path / "out.parquet") == 1
    assert count_records(tmp_path) == 1


def test_count_records_counts_whole_lines_of_every_writer(tmp_path: Path) -> None:
    assert count_records(tmp_path / "missing") == 0
    for writer, n in (("w1", 3), ("w2", 2)):
        rows = [record(f"{writer}-{i}", f"https://x.com/{writer}/{i}", "نص") for i in range(n)]
        CorpusWriter(tmp_path, writer, 1 << 20).append([r.model_dump_json() for r in rows])
    with (tmp_path / "w2-00001.jsonl").open("a") as handle:
        handle.write('{"id": "cut by a cr')  # a crash's partial line is no record
    assert count_records(tmp_path) == 5


def bound(
    corpus_id: str = MANIFEST_A.id, records: int = 2, ready: bool = True, reset: bool = False
) -> Binding:
    return Binding(corpus_id, records, ready, reset)


@pytest.mark.parametrize(
    ("created", "binding", "on_disk", "expected"),
    [
        # A new folder on an index that names no corpus (a new server).
        (True, None, 0, (True, "new-corpus", False)),
        # A corpus the index may or may not have been built from: rebuilt, fetcher kept.
        (False, None, 2, (True, "unbound", False)),
        (True, None, 2, (True, "unbound", False)),
        # Another corpus, or a new folder where the old one was deleted.
        (True, bound("b" * 32), 0, (True, "other-corpus", True)),
        (False, bound("b" * 32), 5, (True, "other-corpus", True)),
        # The same corpus, its files deleted.
        (False, bound(records=2), 0, (True, "emptied", True)),
        (False, bound(records=5), 3, (True, "records-missing", False)),
        # A rebuild cut short: redone, with the fetcher reset it still owed.
        (False, bound(ready=False), 2, (True, "interrupted", False)),
        (False, bound(ready=False, reset=True), 0, (True, "interrupted", True)),
        # The same corpus: as many records as the index settled, or more (written by a
        # writer that died before settling them: reconciliation's work, not a rebuild's).
        (False, bound(records=2), 2, (False, "same-corpus", False)),
        (False, bound(records=2), 3, (False, "same-corpus", False)),
        (False, bound(records=0), 0, (False, "same-corpus", False)),
    ],
)
def test_assess(
    created: bool, binding: Binding | None, on_disk: int, expected: tuple[bool, str, bool]
) -> None:
    found = assess(MANIFEST_A, created, binding, on_disk)
    assert (found.rebuild, found.reason, found.reset_fetcher) == expected


def test_binding_read_from_its_hash() -> None:
    assert Binding.from_hash({}) is None
    fields = {"id": "x", "records": "7", "state": "ready", "path": "/c", "reset_fetcher": "1"}
    assert Binding.from_hash(fields) == Binding("x", 7, True, True, "/c")
    assert Binding.from_hash({"id": "x", "state": "building"}) == Binding("x", 0, False)
