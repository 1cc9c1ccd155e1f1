#!/usr/bin/env bash
# A non-editable install works: build the wheel, install it into a fresh venv (dependencies borrowed
# read-only from .venv, so nothing is downloaded), and run `livecut serve --demo --exit-after-demo`
# from outside the repository. It must print the web page, serve hls.js, and make clips.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

.venv/bin/pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$work/dist" .
python3 -m venv "$work/venv"
# The project's venv site-packages as a plain path: its editable-install hook (.pth) is not run there,
# so `livecut` can only come from the wheel.
deps=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
fresh=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" > "$fresh/livecut-deps.pth"
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-index "$work"/dist/livecut-*.whl

read -r http rtmp < <("$work/venv/bin/python" -c '
import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1]); s.close()
print(*ports)')
cat > "$work/config.toml" <<TOML
[paths]
data_dir = "$work/data"
[server]
port = $http
[rtmp]
port = $rtmp
TOML

cd "$work"
location=$("$work/venv/bin/python" -c 'import livecut, pathlib; print(pathlib.Path(livecut.__file__).parent)')
case "$location" in "$repo"*) echo "check_wheel: livecut was imported from the repository, not the wheel" >&2; exit 1 ;; esac
test -f "$location/web/node_modules/hls.js/dist/hls.min.mjs" || { echo "check_wheel: hls.js is not in the wheel" >&2; exit 1; }
LIVECUT_ADMIN_PASSWORD=wheel-check timeout 600 "$work/venv/bin/livecut" serve --demo --exit-after-demo \
    --config "$work/config.toml" > "$work/out.txt"
cat "$work/out.txt"
grep -q "web page http://" "$work/out.txt"
clips=$(grep -c "^clip " "$work/out.txt" || true)
[ "$clips" -ge 3 ] || { echo "check_wheel: expected at least 3 clips from the demo, got $clips" >&2; exit 1; }
echo "check_wheel: the wheel installed into a fresh venv ran the demo and made $clips clips"
