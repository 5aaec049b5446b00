#!/usr/bin/env bash
# Set up .venv with a Python >= 3.13.2 and the pinned requirements.
#
# Usage: scripts/bootstrap.sh REQUIREMENTS_FILE [VENV_DIR]
#
# 1. Use a Python >= 3.13.2 already on PATH (Debian 13 ships 3.13.5) or in pyenv.
# 2. Otherwise build 3.13.5 with pyenv. python.org is not reachable from every machine, so the
#    source tarball is taken from the Debian archive the machine's apt already uses (the
#    upstream tarball is shipped there unchanged as python3.13_3.13.5.orig.tar.xz) and checked
#    against the upstream sha256 before pyenv sees it.
# 3. Create the venv and install the requirements; a stamp file (hash of the requirements)
#    makes the second run a no-op.
set -euo pipefail

req=${1:?requirements file}
venv=${2:-.venv}
py_version=3.13.5
py_sha256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640

log() { printf '[bootstrap] %s\n' "$*" >&2; }

good_python() {
    # True when "$1" is a Python >= 3.13.2 that can create venvs with pip.
    "$1" - <<'PY' >/dev/null 2>&1
import sys
import ensurepip, venv, sqlite3, ssl, ctypes, lzma, bz2, zlib  # noqa: F401
sys.exit(0 if sys.version_info >= (3, 13, 2) else 1)
PY
}

apt_mirror() {
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || { log "no Debian mirror configured for apt"; return 1; }
    printf '%s\n' "${uri%/}"
}

new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13, 2) else 1)' 2>/dev/null
}

find_python() {
    local candidate path
    for candidate in python3.13 python3.14 python3; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if good_python "$path"; then printf '%s\n' "$path"; return 0; fi
        # Debian 13 ships Python 3.13.5 without ensurepip/venv: they come with python3.X-venv.
        if new_enough "$path" && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            local minor
            minor=$("$path" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
            log "installing python$minor-venv for $path"
            { apt-get update -qq && apt-get install -y -qq "python$minor-venv"; } >&2 || true
            if good_python "$path"; then printf '%s\n' "$path"; return 0; fi
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        path="$(pyenv root)/versions/$py_version/bin/python3"
        if [ -x "$path" ] && good_python "$path"; then printf '%s\n' "$path"; return 0; fi
    fi
    return 1
}

build_python() {
    command -v pyenv >/dev/null 2>&1 || { log "no Python >= 3.13.2 and no pyenv to build one"; return 1; }
    local cache tarball mirror
    cache="$(pyenv root)/cache"
    tarball="$cache/Python-$py_version.tar.xz"
    mkdir -p "$cache"
    if ! echo "$py_sha256  $tarball" | sha256sum -c --status 2>/dev/null; then
        mirror=$(apt_mirror)
        log "downloading Python $py_version source from the Debian archive"
        curl -fsSL --retry 3 -o "$tarball.part" \
            "$mirror/pool/main/p/python3.13/python3.13_${py_version}.orig.tar.xz"
        echo "$py_sha256  $tarball.part" | sha256sum -c --status \
            || { log "checksum mismatch for the Python source"; rm -f "$tarball.part"; return 1; }
        mv "$tarball.part" "$tarball"
    fi
    log "building Python $py_version with pyenv (about 3 minutes)"
    PYTHON_CONFIGURE_OPTS="${PYTHON_CONFIGURE_OPTS:-}" MAKE_OPTS="-j$(nproc)" \
        pyenv install --skip-existing "$py_version" >&2
    printf '%s\n' "$(pyenv root)/versions/$py_version/bin/python3"
}

stamp="$venv/.requirements.sha256"
want=$( { cat "$req"; echo "$py_version"; } | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && good_python "$venv/bin/python" \
    && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

python=$(find_python || build_python)
good_python "$python" || { log "$python is not usable"; exit 1; }
log "using $python ($("$python" --version))"

if ! [ -x "$venv/bin/python" ] || ! good_python "$venv/bin/python"; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
log "environment ready in $venv"
