#!/usr/bin/env bash
# Installs moto_server (pip `moto[server]`) into the repo's .venv, the third-party KMS that
# `cryptgate kms probe --kms moto` and `cryptgate run --kms moto` start on a loopback port.
# Idempotent: a venv that already has the pinned version is left as it is.
#   bash scripts/moto/install.sh          # prints the moto_server path on its last line
# Env: PYTHON (default python3), MOTO_VERSION (default the pin below).
set -euo pipefail

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
PYTHON="${PYTHON:-python3}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "install.sh: $PYTHON not found: install Python 3.9 or newer (e.g. apt-get install python3 python3-venv)" >&2
  exit 3
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  if ! "$PYTHON" -m venv "$venv"; then
    echo "install.sh: '$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    rm -rf "$venv"
    exit 3
  fi
fi

installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)"
if [ "$installed" = "$MOTO_VERSION" ] && [ -x "$venv/bin/moto_server" ]; then
  echo "moto $installed already in $venv" >&2
else
  echo "installing moto[server]==$MOTO_VERSION into $venv" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "moto[server]==$MOTO_VERSION"
fi

# A server that cannot import (a broken wheel, a missing extra) should fail here, not in CI later.
"$venv/bin/moto_server" --help >/dev/null
echo "moto $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))') ready" >&2
echo "$venv/bin/moto_server"
