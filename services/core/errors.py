"""The error hierarchy: transient errors leave a message pending, permanent ones dead-letter it."""


class AkhbarError(Exception):
    """Root of every error akhbar raises on purpose."""


class TransientError(AkhbarError):
    """A failure that may pass on retry; the message stays pending and is redelivered."""


class BrokerUnavailableError(TransientError):
    """The Redis server could not be reached."""


class PermanentError(AkhbarError):
    """A failure that retrying cannot fix; the message is acknowledged and dead-lettered."""


class UndecodableBodyError(PermanentError):
    """The document body is empty, binary or not text in any known charset."""


class ExtractionError(PermanentError):
    """The extractor failed on the document or found no text in it."""


class ConfigError(AkhbarError):
    """A settings value or a file given to the CLI is unusable."""
