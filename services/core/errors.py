"""The error hierarchy: transient errors leave a message pending, permanent ones dead-letter it."""


class AkhbarError(Exception):
    """Root of every error akhbar raises on purpose."""


class TransientError(AkhbarError):
    """A failure that may pass on retry; the message stays pending and is redelivered."""


class BrokerUnavailableError(TransientError):
    """The Redis server could not be reached."""


class StillWritingError(TransientError):
    """A claimed message's record is still being written by this same process."""


class PermanentError(AkhbarError):
    """A failure that retrying cannot fix; the message is acknowledged and dead-lettered."""


class MalformedMessageError(PermanentError):
    """The message is not the JSON its stream's model requires."""


class UndecodableBodyError(PermanentError):
    """The document body is empty, binary or not text in any known charset."""


class ExtractionError(PermanentError):
    """The extractor failed on the document or found no text in it."""


class ExtractionTimeoutError(ExtractionError):
    """The extractor ran past its time limit on the document and was stopped."""


class DocumentTooLargeError(ExtractionError):
    """The document is larger than the extractor is allowed to read."""


class ConfigError(AkhbarError):
    """A settings value or a file given to the CLI is unusable."""


class FetchError(AkhbarError):
    """Base of the fetcher's download failures."""


class TemporaryFetchError(FetchError, TransientError):
    """A download failed in a way that may pass: timeout, connection error, 5xx."""


class RateLimitedError(TemporaryFetchError):
    """The server answered 429 or 503; `retry_after` seconds is what it asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RefusedFetchError(FetchError, PermanentError):
    """The fetcher refuses the resource: too large, binary, not HTML, or an HTTP 4xx."""


class BlockedAddressError(RefusedFetchError):
    """The URL resolves to a private, loopback, link-local or metadata address."""


class FeedRejectedError(RefusedFetchError):
    """The body is not a feed akhbar can read (HTML, malformed beyond repair, empty)."""
