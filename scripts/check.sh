#!/usr/bin/env bash
# Format check, lint, type check and the test suite: the one command developers and CI run.
# Creates .venv with the development extras on first use, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# System tools some deployment tests use; without them those tests skip, saying why.
# (.ci/run installs them; so does `sudo bash scripts/install-system-tools.sh`.)
missing=()
for tool in docker-compose dockerd debootstrap promtool; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "check: not installed: ${missing[*]}; the tests that need them will skip" \
    "(sudo bash scripts/install-system-tools.sh)" >&2
fi

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
