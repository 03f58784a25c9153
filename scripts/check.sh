#!/usr/bin/env bash
# Format check, lint, type check and the test suite: the one command developers and CI run.
# Creates .venv with the development extras on first use, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# The deployment test validates deploy/docker-compose.yml with Debian's docker-compose.
if ! command -v docker-compose >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null
  else
    echo "docker-compose is missing: sudo apt-get install docker-compose" >&2
    exit 1
  fi
fi

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
