#!/usr/bin/env bash
# Installs Rotel (PyPI package `rotel`, pinned), the baseline of the load benchmark, into a Python
# virtual environment, and prints the path of its `rotel-agent` binary.
#
#   R=$(benches/install_rotel.sh)               # venv in target/rotel-venv
#   R=$(benches/install_rotel.sh /tmp/rotel)    # or ROTEL_VENV=/tmp/rotel benches/install_rotel.sh
#
# Idempotent: an existing venv with the pinned version is reused without asking the registry.
# Needs python3 with the venv module (Debian: python3-venv). Progress goes to stderr, so that
# stdout is only the path.
set -euo pipefail

ROTEL_VERSION="${ROTEL_VERSION:-0.0.1a15}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-${ROTEL_VENV:-$repo_root/target/rotel-venv}}"
python="${PYTHON:-python3}"

installed_version() {
    "$venv/bin/python" -m pip show rotel 2>/dev/null | sed -n 's/^Version: //p'
}

if [ ! -x "$venv/bin/python" ]; then
    echo "creating the virtual environment $venv" >&2
    "$python" -m venv "$venv" >&2
fi
if [ "$(installed_version)" != "$ROTEL_VERSION" ]; then
    echo "installing rotel==$ROTEL_VERSION into $venv" >&2
    "$venv/bin/python" -m pip install --quiet "rotel==$ROTEL_VERSION" >&2
fi

agent="$("$venv/bin/python" -c 'import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')"
if [ ! -x "$agent" ]; then
    echo "rotel==$ROTEL_VERSION installed, but $agent is not an executable" >&2
    exit 1
fi
echo "$agent"
