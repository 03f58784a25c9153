"""The compose deployment: a valid file whose commands the image can run."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.cli.conftest import clean_env, run_akhbar
from tests.conftest import PROJECT

DEPLOY = PROJECT / "deploy"
APPS = {
    "fetcher": "services.fetcher.app",
    "parser": "services.parser.app",
    "store": "services.store.app",
}


def compose_config() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (fails on an invalid file)."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (sudo bash scripts/install-system-tools.sh)")
    done = subprocess.run(
        ["docker-compose", "-f", str(DEPLOY / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_file_validates_with_the_expected_services() -> None:
    services = compose_config()["services"]
    assert set(services) == {"valkey", "fetcher", "parser", "store"}
    assert "--appendonly" in services["valkey"]["command"]
    assert services["parser"]["scale"] >= 2
    for name in ("fetcher", "parser", "store"):
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["environment"]["AKHBAR_REDIS_URL"] == "redis://valkey:6379/0"
    assert any(v.endswith(":/config:ro") for v in services["fetcher"]["volumes"])
    assert "corpus:/data/corpus:rw" in services["store"]["volumes"]


def test_every_compose_command_exists_in_the_cli() -> None:
    for name, service in compose_config()["services"].items():
        if name == "valkey":
            continue
        command = service["command"]
        done = run_akhbar(*command, "--help", env=clean_env())
        assert done.returncode == 0, f"{name}: akhbar {' '.join(command)}: {done.stderr}"
        assert command[0] in APPS


def test_image_entry_point_and_apps_import() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["akhbar"\]$', dockerfile, re.MULTILINE)
    (script,) = [
        e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "akhbar"
    ]
    assert callable(script.load())
    for module in APPS.values():
        assert callable(importlib.import_module(module).build_app)


def test_deploy_readme_uses_only_existing_files_and_commands() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for path in re.findall(r"(?<![\w/])(deploy/[\w./-]+\.(?:yml|env|toml|md|sh))", readme):
        if path != "deploy/config/feeds.toml":  # created by the first step
            assert (PROJECT / path).exists(), path
    for command in re.findall(r"exec \w+ akhbar ([a-z]+(?: [a-z]+)?)", readme):
        done = run_akhbar(*command.split(), "--help", env=clean_env())
        assert done.returncode == 0, command
