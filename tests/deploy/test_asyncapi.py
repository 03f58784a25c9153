"""The AsyncAPI documents in docs/asyncapi/ match what the apps generate today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT


@pytest.mark.parametrize("service", ["fetcher", "parser", "store"])
def test_asyncapi_document_is_current(service: str, tmp_path: Path) -> None:
    out = tmp_path / f"{service}.yaml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AKHBAR_")},
        "AKHBAR_REDIS_URL": "redis://redis:6379",
        "AKHBAR_CONSUMER_NAME": service,
        "AKHBAR_CORPUS_DIR": str(tmp_path / "corpus"),
    }
    done = subprocess.run(
        [
            Path(sys.executable).with_name("faststream"),
            "docs",
            "gen",
            "--yaml",
            "--factory",
            f"services.{service}.app:build_app",
            "--out",
            str(out),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    committed = PROJECT / "docs" / "asyncapi" / f"{service}.yaml"
    # FastStream lists channels in no fixed order: compare the documents, not the text.
    generated = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert generated == yaml.safe_load(committed.read_text(encoding="utf-8")), (
        "docs/asyncapi is out of date: run scripts/asyncapi.sh"
    )
