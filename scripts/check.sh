#!/usr/bin/env bash
# Format check, lint, type check and the test suite: the one command developers and CI run.
# Creates .venv with the development extras on first use, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# The deployment tests need Debian's docker-compose; as root they also run the compose file in
# a private Docker engine (docker.io, debootstrap) and check deploy/alerts.yml (prometheus).
packages=()
command -v docker-compose >/dev/null || packages+=(docker-compose)
if [[ $(id -u) -eq 0 ]]; then
  command -v dockerd >/dev/null || packages+=(docker.io)
  command -v debootstrap >/dev/null || packages+=(debootstrap)
  command -v promtool >/dev/null || packages+=(prometheus)
fi
if ((${#packages[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "missing ${packages[*]}: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
