from pathlib import Path

import pytest

from services.core.errors import ConfigError
from services.fetcher.feeds import load_feeds, parse_feeds


def test_parse_feeds_with_defaults() -> None:
    feeds = parse_feeds(
        """
        [[feeds]]
        name = "example"
        url = "https://example.com/rss.xml"
        tags = ["gulf"]

        [[feeds]]
        name = "other"
        url = "https://example.org/feed"
        interval = 300
        enabled = false
        """
    )
    assert [(f.name, f.interval, f.enabled, f.tags) for f in feeds] == [
        ("example", 600, True, ["gulf"]),
        ("other", 300, False, []),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[feeds]\nname=", "does not parse"),
        ('[[feeds]]\nname = "a"', "does not parse"),
        ('[[feeds]]\nname="a"\nurl="u"\n[[feeds]]\nname="a"\nurl="v"', "unique: a"),
    ],
)
def test_bad_feeds_files_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_feeds(text)


def test_missing_feeds_file_means_no_feeds(tmp_path: Path) -> None:
    assert load_feeds(tmp_path / "absent.toml") == []
