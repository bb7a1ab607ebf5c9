#!/usr/bin/env bash
# Installs the C libraries upscale links against (libpng, libjpeg-turbo, libwebp) and pkg-config, when missing.
set -euo pipefail
missing=()
for pkg in libpng-dev libjpeg-dev libwebp-dev pkgconf; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
