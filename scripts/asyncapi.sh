#!/usr/bin/env bash
# Regenerate the AsyncAPI documents of the three services into docs/asyncapi/.
# The apps are built with a placeholder broker URL and fixed consumer names so the output
# only changes when the streams or messages do.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/asyncapi
for service in fetcher parser store; do
  AKHBAR_REDIS_URL=redis://redis:6379 AKHBAR_CONSUMER_NAME="$service" \
    AKHBAR_CORPUS_DIR="$(mktemp -d)" \
    .venv/bin/faststream docs gen --yaml --factory "services.$service.app:build_app" \
    --out "docs/asyncapi/$service.yaml" >/dev/null
done
echo "docs/asyncapi/{fetcher,parser,store}.yaml written"
