#!/usr/bin/env bash
# Debian's packages the deployment tests use: docker-compose (the compose file's validation),
# docker.io and debootstrap (the compose deployment run in a private engine), prometheus
# (promtool for the alert rules, and the scraping in the deployment test). Needs root.
set -euo pipefail

packages=()
command -v docker-compose >/dev/null || packages+=(docker-compose)
command -v dockerd >/dev/null || packages+=(docker.io)
command -v debootstrap >/dev/null || packages+=(debootstrap)
command -v promtool >/dev/null || packages+=(prometheus)
if ((${#packages[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi
