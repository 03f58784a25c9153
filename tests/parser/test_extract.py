from services.parser.extract import ExtractorPool, extract_html


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
