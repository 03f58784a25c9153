"""`akhbar feeds list / add / check` against a local site and a real server."""

from __future__ import annotations

import json
from pathlib import Path

from redis.asyncio import Redis

from services.core.streams import Streams
from tests.cli.conftest import clean_env, run_akhbar
from tests.localsite import LocalSite, Reply, feeds_toml, page_html, rss, seed_pages

RSS = {"Content-Type": "application/rss+xml"}


def serve_feed(site: LocalSite) -> None:
    items = []
    for n, (title, text) in enumerate(seed_pages()):
        site.routes[f"/news/{n}"] = Reply(body=page_html(title, text).encode())
        items.append((title, site.url(f"/news/{n}")))
    site.routes["/rss.xml"] = Reply(headers=RSS, body=rss(items))


def test_list_shows_health_after_a_poll(
    tmp_path: Path, site: LocalSite, redis_url: str, prefix: str
) -> None:
    serve_feed(site)
    feeds_toml(
        tmp_path / "feeds.toml", [("local", site.url("/rss.xml")), ("gone", "http://127.0.0.1:9/")]
    )
    env = clean_env(
        AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix, AKHBAR_ALLOW_PRIVATE_NETWORKS="1"
    )
    assert run_akhbar("up", "--until-idle", cwd=tmp_path, env=env).returncode == 0
    listed = run_akhbar("feeds", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    local, gone = listed.stdout.split("\n", 1)
    assert local.startswith("local")
    assert " ok " in local
    assert "articles 2" in local
    assert "failures 1" in gone
    assert "error:" in gone
    rows = [
        json.loads(line)
        for line in run_akhbar("feeds", "list", "--json", cwd=tmp_path, env=env).stdout.splitlines()
    ]
    assert [(r["name"], r["status"], r["articles_published"]) for r in rows] == [
        ("local", "ok", "2"),
        ("gone", "error", None),
    ]


def test_add_discovers_the_feed_of_a_site_and_keeps_comments(
    tmp_path: Path, site: LocalSite
) -> None:
    serve_feed(site)
    site.routes["/"] = Reply(
        body=b'<html><head><link rel="alternate" type="application/rss+xml" '
        b'title="RSS" href="/rss.xml"></head><body>home</body></html>'
    )
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        '# our sources\n\n[[feeds]]\nname = "a"\nurl = "https://a.example/rss"\n', encoding="utf-8"
    )
    env = clean_env(AKHBAR_ALLOW_PRIVATE_NETWORKS="true")
    done = run_akhbar("feeds", "add", site.url("/"), "--tag", "gulf", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert f"added 127: {site.url('/rss.xml')} (2 entries)" in done.stdout
    text = feeds.read_text(encoding="utf-8")
    assert text.startswith("# our sources\n")
    assert f'url = "{site.url("/rss.xml")}"' in text
    assert 'tags = ["gulf"]' in text
    again = run_akhbar("feeds", "add", site.url("/rss.xml"), cwd=tmp_path, env=env)
    assert again.returncode == 2
    assert "already in" in again.stderr


def test_add_refuses_a_page_without_a_feed(tmp_path: Path, site: LocalSite) -> None:
    site.routes["/"] = Reply(body=b"<html><body>no feed here</body></html>")
    env = clean_env(AKHBAR_ALLOW_PRIVATE_NETWORKS="true")
    done = run_akhbar("feeds", "add", site.url("/"), cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "no feed found" in done.stderr
    assert not (tmp_path / "feeds.toml").exists()


def test_add_refuses_private_addresses_by_default(tmp_path: Path, site: LocalSite) -> None:
    serve_feed(site)
    done = run_akhbar("feeds", "add", site.url("/rss.xml"), cwd=tmp_path, env=clean_env())
    assert done.returncode == 2
    assert "is not public" in done.stderr


async def test_check_reports_and_publishes_nothing(
    tmp_path: Path, site: LocalSite, redis_url: str, prefix: str, client: Redis
) -> None:
    serve_feed(site)
    site.routes["/page"] = Reply(body=b"<html><body>not a feed</body></html>")
    feeds_toml(
        tmp_path / "feeds.toml", [("local", site.url("/rss.xml")), ("page", site.url("/page"))]
    )
    env = clean_env(
        AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix, AKHBAR_ALLOW_PRIVATE_NETWORKS="1"
    )
    done = run_akhbar("feeds", "check", cwd=tmp_path, env=env)
    assert done.returncode == 1
    local, page = done.stdout.splitlines()
    assert "ok" in local
    assert "2 entries" in local
    assert "failed  not a feed" in page
    rows = [
        json.loads(x)
        for x in run_akhbar("feeds", "check", "--json", cwd=tmp_path, env=env).stdout.splitlines()
    ]
    assert [(r["name"], r["ok"]) for r in rows] == [("local", True), ("page", False)]
    assert not await client.exists(Streams(prefix).raw)
    assert site.hits("/news/0") == 0
