import json
from pathlib import Path

import pytest

from services.store import corpus
from services.store.corpus import CorpusWriter, corpus_files, iter_records, repair_partial_line


def lines(*ids: str) -> list[str]:
    return [json.dumps({"id": i, "text": "نص"}, ensure_ascii=False) for i in ids]


def test_append_writes_whole_utf8_lines(tmp_path: Path) -> None:
    writer = CorpusWriter(tmp_path, "w1", rotate_bytes=1 << 20)
    writer.append(lines("a", "b"))
    writer.append(lines("c"))
    assert writer.path.name == "w1-00001.jsonl"
    raw = writer.path.read_bytes()
    assert raw.endswith(b"\n")
    assert "نص".encode() in raw  # not escaped
    assert [r["id"] for r in iter_records(tmp_path)] == ["a", "b", "c"]


def test_rotation_by_size_and_resume_after_restart(tmp_path: Path) -> None:
    writer = CorpusWriter(tmp_path, "w1", rotate_bytes=1024)
    for n in range(40):
        writer.append(lines(f"doc{n:02d}"))
    names = [p.name for p in corpus_files(tmp_path)]
    assert len(names) > 1
    assert all(p.stat().st_size < 1024 + 100 for p in corpus_files(tmp_path))
    restarted = CorpusWriter(tmp_path, "w1", rotate_bytes=1024)
    assert restarted.path == writer.path  # appends where it left off
    assert [r["id"] for r in iter_records(tmp_path)] == [f"doc{n:02d}" for n in range(40)]


def test_writers_keep_to_their_own_files(tmp_path: Path) -> None:
    CorpusWriter(tmp_path, "host/a b", rotate_bytes=1 << 20).append(lines("a"))
    CorpusWriter(tmp_path, "other", rotate_bytes=1 << 20).append(lines("b"))
    assert sorted(p.name for p in corpus_files(tmp_path)) == [
        "host-a-b-00001.jsonl",
        "other-00001.jsonl",
    ]


def test_partial_last_line_skipped_by_readers_and_repaired(tmp_path: Path) -> None:
    writer = CorpusWriter(tmp_path, "w1", rotate_bytes=1 << 20)
    writer.append(lines("a", "b"))
    with writer.path.open("ab") as handle:
        handle.write(b'{"id": "c", "text": "\xd9\x86')  # a crash mid-line
    assert [r["id"] for r in iter_records(tmp_path)] == ["a", "b"]
    assert writer.repair() > 0
    assert writer.path.read_bytes().endswith(b"\n")
    assert repair_partial_line(writer.path) == 0
    writer.append(lines("c"))
    assert [r["id"] for r in iter_records(tmp_path)] == ["a", "b", "c"]


def test_repair_of_a_file_with_only_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "w1-00001.jsonl"
    path.write_bytes(b'{"id": "a"')
    assert repair_partial_line(path) == len(b'{"id": "a"')
    assert path.read_bytes() == b""


def test_a_new_file_makes_its_directory_durable_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(corpus, "fsync_directory", synced.append)
    writer = CorpusWriter(tmp_path, "w1", rotate_bytes=1024)
    position = writer.append(lines("a"))
    assert position == ("w1-00001.jsonl", writer.path.stat().st_size)
    writer.append(lines("b"))
    assert synced == [tmp_path]  # the file existed the second time
    while writer.path.name == "w1-00001.jsonl":
        writer.append(lines("c" * 100))
    assert synced == [tmp_path, tmp_path]  # and once more for the rotated file
