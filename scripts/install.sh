#!/usr/bin/env bash
# Installs everything livecut needs on Debian with Python 3.11: system packages,
# the .venv (created or reused), the Python dependencies and the model weights.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg fonts-wqy-microhei nginx libnginx-mod-rtmp postgresql chromium)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install: apt packages ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=$(command -v python3.11 || command -v python3)
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
echo "install: python packages into .venv"
# torch first and pinned: the CPU build is on disk; any other torch pulls gigabytes of CUDA.
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'

echo "install: model weights"
.venv/bin/livecut models

# The operator web page's browser modules (hls.js), exactly as livecut/web/package-lock.json pins
# them; the page imports them from livecut/web/node_modules as they are (no build step).
if [ -f livecut/web/package-lock.json ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install: apt packages nodejs npm"
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    echo "install: web page modules into livecut/web/node_modules"
    npm ci --prefix livecut/web --no-audit --no-fund --loglevel=error
fi
