#!/usr/bin/env bash
# Installs whatever this host is missing to run and test spritesd: Debian packages, npm packages,
# the native helpers (in-sprite agent, idmapped-mount helper) and the golden base image.
# Idempotent: a second run only checks. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "error: run as root (spritesd manages loop devices, mounts, cgroups and namespaces)" >&2
  exit 1
fi

PKGS=(crun runc iproute2 nftables dnsmasq-base xfsprogs e2fsprogs util-linux libseccomp2
  mmdebstrap busybox-static gcc libc6-dev make curl tmux hyperfine chromium postgresql)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  step "Debian packages present"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages"
  npm ci --no-audit --no-fund
else
  step "npm packages present"
fi

step "building native helpers"
make -s -C packages/runtime/native
make -s -C packages/storage/native

step "preparing the storage pool and the base image (first build takes about a minute)"
node --conditions=@sprites/source --import tsx packages/server/src/main.ts setup
