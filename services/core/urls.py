"""URL canonical form, so one article has one key however a feed spells its link."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that identify a campaign or a click, never the article.
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|"
    r"_ga|_gl|ref_src|cmpid|ito|ns_source|ns_mchannel|ns_campaign|ocid|at_medium|at_campaign)$",
    re.IGNORECASE,
)
# Characters left as they are in a path; everything else (Arabic slugs included) is
# percent-encoded with upper-case hex, so encoded and raw spellings meet.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*+,;-._~?"


def _canonical_path(path: str) -> str:
    return quote(unquote(path), safe=_PATH_SAFE)


def _canonical_query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlencode(pairs, quote_via=quote, safe=_QUERY_SAFE)


def _canonical_host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def canonical_url(url: str) -> str:
    """Lower-case scheme and host (IDNA), no default port, fragment or tracking parameters,
    and one percent-encoding of the path and query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _canonical_host(parts.hostname or "")
    netloc = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = _canonical_path(parts.path) or ("/" if host else "")
    return urlunsplit((scheme, netloc, path, _canonical_query(parts.query), ""))
