import codecs

import pytest

from services.fetcher.charset import declared_charset, decode_body

ARABIC = "اجتمع رئيس الأركان القطري مع الملحق العسكري التركي"


def test_bom_wins() -> None:
    data = codecs.BOM_UTF8 + ARABIC.encode("utf-8")
    assert decode_body(data, "text/html; charset=windows-1256") == (ARABIC, "utf-8")


def test_http_header_charset() -> None:
    data = ARABIC.encode("cp1256")
    assert decode_body(data, "text/html; charset=windows-1256") == (ARABIC, "cp1256")


@pytest.mark.parametrize(
    "declaration",
    [
        b'<meta charset="windows-1256">',
        b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">',
    ],
)
def test_meta_charset(declaration: bytes) -> None:
    data = b"<html><head>" + declaration + b"</head><body>" + ARABIC.encode("cp1256")
    text, charset = decode_body(data)
    assert charset == "cp1256"
    assert ARABIC in text


def test_xml_prolog() -> None:
    data = b'<?xml version="1.0" encoding="windows-1256"?><rss>' + ARABIC.encode("cp1256")
    assert declared_charset(data) == "cp1256"


def test_iso_8859_6_decoded_as_declared() -> None:
    data = ARABIC.encode("iso8859-6")
    assert decode_body(data, "text/html; charset=ISO-8859-6") == (ARABIC, "iso8859-6")


def test_windows_1256_served_as_iso_8859_6() -> None:
    # "ي" is 0xED in windows-1256, a byte ISO-8859-6 does not define.
    data = ARABIC.encode("cp1256")
    assert decode_body(data, "text/html; charset=ISO-8859-6") == (ARABIC, "cp1256")


def test_undeclared_utf8_then_windows_1256() -> None:
    assert decode_body(ARABIC.encode("utf-8")) == (ARABIC, "utf-8")
    assert decode_body(ARABIC.encode("cp1256")) == (ARABIC, "windows-1256")


def test_unknown_declared_charset_is_ignored() -> None:
    assert declared_charset(b"x", "text/html; charset=no-such-charset") is None
