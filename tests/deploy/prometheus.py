"""A real Prometheus server for deployment tests, with deploy/prometheus.yml and alerts.yml."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROJECT

DEPLOY = PROJECT / "deploy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape_config_copy(folder: Path, interval: str = "1s") -> Path:
    """deploy/prometheus.yml and its rule file in `folder`, scraping every `interval`."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update(scrape_interval=interval, evaluation_interval=interval)
    for rule_file in config["rule_files"]:
        shutil.copy(DEPLOY / rule_file, folder / rule_file)
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Prometheus:
    """Debian's prometheus binary on a free loopback port, its storage under `folder`."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self._argv = [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "prometheus.log").open("wb") as log:
            self._proc = subprocess.Popen(self._argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self._url("/-/ready"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                log_text = (self.folder / "prometheus.log").read_text(errors="replace")
                raise RuntimeError(f"prometheus did not start: {log_text[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(self._url(f"/api/v1/{path}{query}"), timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> dict[str, float]:
        """An instant query: each series' value, keyed by its labels as `k=v,...`."""
        data = self.api("query", query=expr)
        return {
            ",".join(f"{k}={v}" for k, v in sorted(item["metric"].items())): float(item["value"][1])
            for item in data["result"]
        }

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"
