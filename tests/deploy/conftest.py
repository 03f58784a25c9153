"""Fixtures for deployment tests: a private Docker engine and a compose project in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.engine import DockerEngine, missing_engine
from tests.deploy.prometheus import DEPLOY

COMPOSE_FILE = DEPLOY / "docker-compose.yml"
PROJECT_LABEL = "com.docker.compose.project"


@pytest.fixture
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """A Docker engine of the test's own, stopped and wiped afterwards whatever happens."""
    reason = missing_engine()
    if reason is not None:
        pytest.skip(reason)
    running = DockerEngine(tmp_path_factory.mktemp("engine"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


class Compose:
    """docker-compose on the shipped deploy/docker-compose.yml plus a test override file."""

    def __init__(self, engine: DockerEngine, project: str, override: Path) -> None:
        self.engine = engine
        self.project = project
        self.files = ["-f", str(COMPOSE_FILE), "-f", str(override)]

    def argv(self, *args: str) -> list[str]:
        return ["docker-compose", "--no-ansi", "-p", self.project, *self.files, *args]

    def __call__(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args),
            env=self.engine.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)}:\n{done.stderr[-3000:]}")
        return done

    def popen(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                self.argv(*args), env=self.engine.env, stdout=out, stderr=subprocess.STDOUT
            )

    def containers(self, service: str | None = None) -> list[str]:
        filters = ["--filter", f"label={PROJECT_LABEL}={self.project}"]
        if service is not None:
            filters += ["--filter", f"label=com.docker.compose.service={service}"]
        listed = self.engine.docker("ps", "--quiet", "--no-trunc", *filters)
        return listed.stdout.split()

    def states(self) -> dict[str, str]:
        """Each running container's name and health (or state, where it has no healthcheck)."""
        ids = self.containers()
        if not ids:
            return {}
        template = (
            "{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
        )
        listed = self.engine.docker("inspect", "--format", template, *ids)
        return dict(line.lstrip("/").split(" ", 1) for line in listed.stdout.splitlines())

    def wait_healthy(self, count: int, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if len(states) == count and set(states.values()) == {"healthy"}:
                return states
            if time.monotonic() > deadline:
                logs = self("logs", "--no-color", "--tail=30", check=False).stdout
                raise AssertionError(f"not healthy after {timeout}s: {states}\n{logs[-5000:]}")
            time.sleep(1)

    def inspect(self, container: str, template: str) -> str:
        return self.engine.docker("inspect", "--format", template, container).stdout.strip()


def write_override(folder: Path, claim_idle_seconds: int) -> Path:
    """Test settings over the shipped file: the fetcher's config folder and a short claim idle.

    The one feed points at the container's own loopback, so the fetcher polls (and fails)
    without any traffic leaving the machine.
    """
    config = folder / "config"
    config.mkdir(parents=True)
    (config / "feeds.toml").write_text(
        '[[feeds]]\nname = "unreachable"\nurl = "http://127.0.0.1:9/feed.xml"\ninterval = 30\n',
        encoding="utf-8",
    )
    env = f'    environment:\n      AKHBAR_CLAIM_IDLE_SECONDS: "{claim_idle_seconds}"\n'
    override = folder / "docker-compose.override.yml"
    override.write_text(
        'version: "2.4"\nservices:\n'
        f"  fetcher:\n    volumes:\n      - {config}:/config:ro\n{env}"
        f"  parser:\n{env}"
        f"  store:\n{env}",
        encoding="utf-8",
    )
    return override


@pytest.fixture
def compose(engine: DockerEngine, tmp_path: Path) -> Iterator[Compose]:
    """A compose project in the engine, taken down with its volumes and images afterwards."""
    missing = [name for name in ("docker-compose", "debootstrap") if shutil.which(name) is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (sudo bash scripts/install-system-tools.sh)"
        )
    project = Compose(engine, f"akhbartest{os.getpid()}", write_override(tmp_path / "compose", 5))
    try:
        yield project
    finally:
        project("down", "--volumes", "--rmi", "all", "--remove-orphans", timeout=180, check=False)
