from pathlib import Path

from services.core.messages import RawDocument
from services.fetcher.replay import replay, replay_document, replay_files
from tests.conftest import SEEDS


def test_replay_files_takes_text_and_html_only(tmp_path: Path) -> None:
    for name in ["b.html", "a.txt", "c.htm", "d.json", "e.TXT", "sub/f.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    names = [p.relative_to(tmp_path).as_posix() for p in replay_files([tmp_path])]
    assert names == ["a.txt", "b.html", "c.htm", "e.TXT", "sub/f.txt"]


def test_replay_document_of_a_seed() -> None:
    path = sorted(SEEDS.glob("*.txt"))[0]
    document = replay_document(path)
    assert document.source == "replay"
    assert document.content_type == "text/plain"
    assert document.url == path.resolve().as_uri()
    assert document.body == path.read_text(encoding="utf-8")
    assert replay_document(path).id == document.id  # stable across replays


def test_replay_decodes_windows_1256_html(tmp_path: Path) -> None:
    html = '<html><head><meta charset="windows-1256"></head><body><p>قطر وتركيا</p></body></html>'
    (tmp_path / "page.html").write_bytes(html.encode("cp1256"))
    document = replay_document(tmp_path / "page.html")
    assert document.charset == "cp1256"
    assert "قطر وتركيا" in document.body
    assert document.content_type == "text/html"


async def test_replay_publishes_every_file() -> None:
    published: list[RawDocument] = []

    async def publish(document: RawDocument) -> None:
        published.append(document)

    assert await replay([SEEDS], publish) == 2
    assert {d.url for d in published} == {p.resolve().as_uri() for p in SEEDS.glob("*.txt")}
