import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.core.errors import (
    DocumentTooLargeError,
    ExtractionError,
    ExtractionTimeoutError,
    PermanentError,
    TransientError,
)
from services.parser.extract import (
    Extracted,
    ExtractorPool,
    check_html_size,
    extract_html,
    warm_up,
)
from tests.parser.conftest import article_page

POOL_MAIN = Path(__file__).with_name("pool_main.py")


def test_extracts_article_without_site_furniture(seed_page: tuple[str, str, str]) -> None:
    html, title, text = seed_page
    found = extract_html(html, "https://example.com/a")
    assert found is not None
    assert found.title == title
    assert found.date == "2020-11-21"
    for paragraph in text.split("\n")[1:]:
        assert paragraph in found.text
    for furniture in ["الرئيسية", "اتصل بنا", "خبر آخر عن الطقس", "جميع الحقوق محفوظة"]:
        assert furniture not in found.text


def test_page_without_text_gives_none() -> None:
    assert (
        extract_html("<html><head><title>t</title></head><body><script>x=1</script></body></html>")
        is None
    )


def _with_footer(html: str, footer: str) -> str:
    return html.replace("</footer>", f"<p>{footer}</p></footer>")


def test_copyright_year_is_not_taken_for_the_date(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    html = _with_footer(article_page(lines[0], lines[1:]), "© 2019 جريدة الأخبار")
    found = extract_html(html, "https://example.com/news/story")
    assert found is not None
    assert found.date is None  # htmldate alone would say 2019-01-01


def test_a_real_january_first_is_kept(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    html = _with_footer(
        article_page(lines[0], lines[1:], date="2019-01-01T09:00:00+03:00"), "© 2019"
    )
    found = extract_html(html, "https://example.com/news/story")
    assert found is not None
    assert found.date == "2019-01-01"


def test_date_in_the_url_is_found(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    found = extract_html(article_page(lines[0], lines[1:]), "https://example.com/2020/11/21/a")
    assert found is not None
    assert found.date == "2020-11-21"


async def test_pool_runs_extraction_in_worker_processes(seed_page: tuple[str, str, str]) -> None:
    html, title, _ = seed_page
    pool = ExtractorPool(workers=1, tasks_per_worker=1)
    try:
        first = await pool.extract(html, "https://example.com/a")
        second = await pool.extract(html, "https://example.com/b")  # a fresh worker by now
    finally:
        pool.close()
    assert first is not None
    assert second is not None
    assert first.title == second.title == title


def stub_extract(html: str, url: str | None) -> Extracted | None:
    """Runs in the pool's worker: "sleep:PATH" hangs, "exit" dies, "raise" raises."""
    if html.startswith("sleep:"):
        Path(html.removeprefix("sleep:")).write_text(str(os.getpid()))
        time.sleep(600)
    if html == "exit":
        os._exit(1)
    if html == "raise":
        raise ValueError("lxml choked")
    return Extracted(text=f"{html} {os.getpid()}")


def _process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has stopped running


async def test_a_stalled_extraction_times_out_and_its_worker_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    pool = ExtractorPool(timeout=1.5, function=stub_extract)
    try:
        await pool.extract("warm-up")  # the worker is started before the clock matters
        started = time.monotonic()
        with pytest.raises(ExtractionTimeoutError, match=r"1\.5s"):
            await pool.extract(f"sleep:{pid_file}", "https://example.com/slow")
        assert time.monotonic() - started < 10
        stuck = int(pid_file.read_text())
        for _ in range(100):
            if _process_gone(stuck):
                break
            await asyncio.sleep(0.05)
        assert _process_gone(stuck)
        after = await pool.extract("next", "https://example.com/next")  # a fresh pool
    finally:
        pool.close()
    assert after is not None
    assert after.text.startswith("next ")
    assert int(after.text.split()[1]) != stuck


def test_timeout_and_size_errors_are_permanent() -> None:
    assert issubclass(ExtractionTimeoutError, ExtractionError)
    assert issubclass(DocumentTooLargeError, ExtractionError)
    assert issubclass(ExtractionError, PermanentError)


async def test_a_dead_worker_is_a_transient_error_and_the_pool_recovers() -> None:
    pool = ExtractorPool(function=stub_extract)
    try:
        with pytest.raises(TransientError):
            await pool.extract("exit")
        after = await pool.extract("next")
    finally:
        pool.close()
    assert after is not None
    assert after.text.startswith("next ")


async def test_an_extractor_exception_is_a_permanent_extraction_error() -> None:
    pool = ExtractorPool(function=stub_extract)
    try:
        with pytest.raises(ExtractionError, match="ValueError: lxml choked"):
            await pool.extract("raise")
        after = await pool.extract("next")
    finally:
        pool.close()
    assert after is not None


async def test_pages_over_the_size_cap_never_reach_a_worker() -> None:
    pool = ExtractorPool(max_html_bytes=4096, function=stub_extract)
    try:
        with pytest.raises(DocumentTooLargeError, match="limit is 4096"):
            await pool.extract("<p>" + "خبر " * 1000 + "</p>")  # 2,000 characters, 7,000 bytes
        found = await pool.extract("<p>" + "x" * 4000 + "</p>")
    finally:
        pool.close()
    assert found is not None


@pytest.mark.parametrize(
    ("html", "too_large"),
    [
        ("a" * 1024, False),
        ("a" * 1025, True),
        ("ب" * 512, False),  # 1,024 bytes in UTF-8
        ("ب" * 513, True),  # fewer characters than the cap, more bytes
        ("", False),
    ],
)
def test_size_cap_counts_utf8_bytes(html: str, too_large: bool) -> None:
    if too_large:
        with pytest.raises(DocumentTooLargeError):
            check_html_size(html, 1024)
    else:
        check_html_size(html, 1024)


def test_warm_up_loads_what_workers_would_otherwise_load_on_their_first_pages() -> None:
    from htmldate.extractors import get_external_parser
    from justext.core import define_stoplist

    define_stoplist.cache_clear()
    get_external_parser.cache_clear()
    warm_up()
    assert define_stoplist.cache_info().currsize == 1
    assert get_external_parser.cache_info().currsize == 1


@pytest.mark.parametrize("how", ["module", "script"])
def test_new_workers_do_not_import_the_main_modules_imports_again(how: str) -> None:
    """multiprocessing runs the main module again in each new worker; what it imports is
    imported once, in the forkserver, not in every worker (0.3 s each for the CLI)."""
    root = Path(__file__).resolve().parents[2]
    program = ["-m", "tests.parser.pool_main"] if how == "module" else [str(POOL_MAIN)]
    result = subprocess.run(
        [sys.executable, *program],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    runs = json.loads(result.stdout)
    assert len({run["worker"] for run in runs}) == 3  # each call in a new worker
    for run in runs:
        assert run["imported_in"] != run["worker"]
    assert result.stderr == ""
