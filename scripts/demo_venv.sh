#!/usr/bin/env bash
# The venv of a real Home Assistant with its web UI (.venv-demo): `make demo` runs it, and the
# browser tests (tests/browser) start it. Python >= 3.13.2, Home Assistant and what the
# integrations of demo/config/configuration.yaml need, installed again under Home Assistant's
# own package_constraints.txt. Idempotent (stamp files).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${1:-.venv-demo}
log() { printf '[demo] %s\n' "$*" >&2; }

bash scripts/bootstrap.sh requirements_demo.txt "$venv"
constraints=$("$venv/bin/python" -c \
    'import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).parent / "package_constraints.txt")')
stamp="$venv/.constraints.sha256"
want=$(cat requirements_demo.txt "$constraints" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "checking the demo requirements against Home Assistant's package constraints"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "$constraints" -r requirements_demo.txt
    echo "$want" > "$stamp"
fi
