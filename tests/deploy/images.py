"""Images for the live deployment test: local stand-ins for the public base images, then
akhbar's own image from deploy/Dockerfile, built in a private engine."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time

from tests.conftest import PROJECT
from tests.deploy.engine import DockerEngine

BUILD_SCRIPT = PROJECT / "deploy" / "local-images" / "build.sh"
# What deploy/Dockerfile copies; the rest of the working tree (.venv, corpora) stays out.
CONTEXT = ("pyproject.toml", "README.md", "services", "seeds", "deploy/Dockerfile")
PIP_SETTINGS = ("index-url", "extra-index-url", "trusted-host")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def pip_build_args() -> list[str]:
    """`--build-arg`s that give pip inside `docker build` the package index pip uses here.

    Read from this machine's pip configuration and environment at build time; only http(s)
    indexes are passed, since a file:// index here means nothing inside a container. Proxy
    variables are named without a value, so docker takes them from the environment.
    """
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    values: dict[str, str] = {}
    for line in listed.stdout.splitlines():
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in PIP_SETTINGS:
            values[name] = value.strip("'\"").replace("\\n", " ")
    args: list[str] = []
    for name, value in values.items():
        words = value.split()
        if name != "trusted-host":
            words = [url for url in words if url.startswith(("http://", "https://"))]
        if words:
            args += ["--build-arg", f"PIP_{name.upper().replace('-', '_')}={' '.join(words)}"]
    for variable in PROXY_VARIABLES:
        if variable in os.environ:
            args += ["--build-arg", variable]
    return args


def build_base_images(engine: DockerEngine) -> tuple[float, str]:
    """Run deploy/local-images/build.sh against the engine; returns (seconds, its output)."""
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env={**engine.env, "DOCKER": engine.client, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"build.sh failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return time.monotonic() - started, done.stdout


def context_tar() -> bytes:
    """The build context deploy/Dockerfile needs, as a tar archive."""
    buffer = io.BytesIO()
    # GNU format: docker's client takes a PAX stream on stdin for a Dockerfile, not a context.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in CONTEXT:
            tar.add(
                PROJECT / name,
                arcname=name,
                filter=lambda info: None if "__pycache__" in info.name else info,
            )
    return buffer.getvalue()


def build_akhbar_image(engine: DockerEngine, tag: str = "akhbar:latest") -> float:
    """Build deploy/Dockerfile as compose would and tag it as compose names it; seconds."""
    started = time.monotonic()
    done = subprocess.run(
        [
            engine.client,
            "build",
            # No default bridge in the private engine; pip reaches the index from the host.
            "--network=host",
            "--file=deploy/Dockerfile",
            f"--tag={tag}",
            *pip_build_args(),
            "-",
        ],
        input=context_tar(),
        env=engine.env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]
    return time.monotonic() - started
