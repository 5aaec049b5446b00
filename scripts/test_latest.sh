#!/usr/bin/env bash
# make test-latest: run the test suite on the newest Home Assistant (2026.10.4, Python 3.14).
#
# Python 3.14 cannot be installed on the Debian 12/13 machines we develop on, so this builds a
# Debian sid chroot once (debootstrap; a few minutes) with Python 3.14 and
# pytest-homeassistant-custom-component, then runs the suite in it on a copy of the project.
# Linux and root only, optional: `make test` (Home Assistant 2026.2) stays what CI runs.
#   usage: scripts/test_latest.sh [pytest args...]     (from the project's root)
# Environment: PHCC_LATEST (default 0.13.375 = Home Assistant 2026.10.4), SID_ROOT (the
# chroot, default /tmp/sidroot), TEST_LATEST_LOCK (default /tmp/latest-ha.lock: one run at a
# time per chroot; taken here unless the caller holds it, as `flock LOCK make test-latest` does).
set -u
proj=$(pwd)
[ -d "$proj/custom_components" ] || { echo "run this from the project's root"; exit 2; }
[ "$(id -u)" = 0 ] || { echo "make test-latest needs root (debootstrap, chroot, mount)"; exit 2; }
root=${SID_ROOT:-/tmp/sidroot}
phcc=${PHCC_LATEST:-0.13.375}
lock=${TEST_LATEST_LOCK:-/tmp/latest-ha.lock}
# Under `flock /tmp/latest-ha.lock make test-latest` the caller holds the lock already (its open
# file is inherited): taking it again on a new descriptor would wait for ever.
held=
for fd in /proc/$$/fd/*; do
  [ "$(readlink "$fd")" = "$(readlink -f "$lock")" ] && held=1
done
if [ -z "$held" ]; then
  exec 9>"$lock"
  flock 9
fi

in_root() { chroot "$root" /usr/bin/env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$@"; }

if ! chroot "$root" /opt/ha/bin/python -c "import pytest_homeassistant_custom_component" 2>/dev/null; then
  for m in proc proj; do mountpoint -q "$root/$m" && umount "$root/$m"; done
  if [ ! -x "$root/usr/bin/python3.14" ]; then
    rm -rf "$root"
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
    command -v debootstrap >/dev/null || { apt-get update -q >/dev/null; apt-get install -y -q debootstrap >/dev/null; }
    echo "building a Debian sid chroot in $root (a few minutes)"
    debootstrap --variant=minbase --include=python3.14,python3.14-venv,python3.14-dev,g++,libturbojpeg0,ca-certificates,git \
      sid "$root" "$mirror" >/tmp/test-latest-debootstrap.log 2>&1 \
      || { echo "debootstrap failed: see /tmp/test-latest-debootstrap.log"; exit 1; }
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root/opt/ha"
  echo "installing pytest-homeassistant-custom-component==$phcc on Python 3.14"
  in_root /bin/bash -c "python3.14 -m venv /opt/ha && /opt/ha/bin/pip install -q \
    pytest-homeassistant-custom-component==$phcc" >/tmp/test-latest-pip.log 2>&1 \
    || { echo "pip in the chroot failed: see /tmp/test-latest-pip.log"; exit 1; }
fi
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
# A C++ compiler and Python's headers: pymicro-vad and pyspeex-noise (assist_pipeline, which
# mobile_app's imports reach) have no wheel for Python 3.14 and build from their sources.
# libturbojpeg: camera (imported by mobile_app) loads it. A chroot built before these were in
# debootstrap's list gets them here, once.
if [ ! -x "$root/usr/bin/g++" ] || [ ! -e "$root/usr/include/python3.14/Python.h" ] \
  || ! ls "$root"/usr/lib/*/libturbojpeg.so.0 >/dev/null 2>&1; then
  echo "installing g++, python3.14-dev and libturbojpeg0 in the chroot"
  # (debootstrap's package lists first; the mirror's Release file may be past its Valid-Until)
  pkgs="g++ python3.14-dev libturbojpeg0"
  in_root /bin/bash -c "apt-get install -y -q --no-install-recommends $pkgs \
    || { apt-get -o Acquire::Check-Valid-Until=false update -q \
         && apt-get install -y -q --no-install-recommends $pkgs; }" >/tmp/test-latest-apt.log 2>&1 \
    || { echo "apt-get in the chroot failed: see /tmp/test-latest-apt.log"; exit 1; }
fi
# The test requirements at the versions this Home Assistant pins (scripts/latest_requirements.py:
# its own integrations' requirements, then requirements_test.txt); again whenever they change.
cp "$proj/requirements_test.txt" "$root/tmp/requirements_test.txt"
cp "$proj/scripts/latest_requirements.py" "$root/tmp/latest_requirements.py"
stamp=$(cat "$proj/requirements_test.txt" "$proj/scripts/latest_requirements.py" | sha256sum)
if [ "$(cat "$root/opt/ha/.test-requirements" 2>/dev/null)" != "$stamp" ]; then
  echo "installing the test requirements for this Home Assistant"
  if in_root /bin/bash -c "cd /tmp && /opt/ha/bin/python latest_requirements.py \
      requirements_test.txt req-latest.txt constraints-latest.txt \
      && /opt/ha/bin/pip install -q -r req-latest.txt -c constraints-latest.txt" \
      >>/tmp/test-latest-pip.log 2>&1; then
    echo "$stamp" > "$root/opt/ha/.test-requirements"
  else
    echo "warning: the test requirements did not install on Python 3.14 (see /tmp/test-latest-pip.log)"
  fi
fi
mkdir -p "$root/proj" "$root/shared/traces"
for m in proj shared/traces; do mountpoint -q "$root/$m" && umount "$root/$m"; done
copy=$(mktemp -d /tmp/test-latest-proj.XXXXXX)
# The copy and the mounts go however the run ends (an interrupted run left them behind).
cleanup() {
  for m in shared/traces proj; do mountpoint -q "$root/$m" && umount "$root/$m"; done
  rm -rf "$copy"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$proj/." "$copy" && rm -rf "$copy/.venv" "$copy/.venv-demo"
mount --bind "$copy" "$root/proj"
# The shared traces beside the project (../shared/traces), read-only, where there are any: the
# tests that read them skip without.
if [ -d "$proj/../shared/traces" ]; then
  mount --bind "$proj/../shared/traces" "$root/shared/traces"
  mount -o remount,bind,ro "$root/shared/traces"
fi
echo "Home Assistant $(chroot "$root" /opt/ha/bin/python -c 'import homeassistant.const as c; print(c.__version__)') on $(chroot "$root" /opt/ha/bin/python --version)"
args=$(printf "%q " "$@")
# The browser tests drive the dashboard card in Home Assistant's web UI: they need the demo
# venv's Home Assistant with its frontend and chromium, which this chroot does not install.
# They are deselected here (unless the arguments choose markers themselves); `make test` runs
# them on the Home Assistant of requirements_test.txt. The e2e tests run here, on this one.
marks="-m 'not browser'"
case " $* " in *" -m "*|*" -m"*) marks= ;; esac
[ -n "$marks" ] && echo "browser tests deselected (tests/browser: no web UI or chromium in the chroot)"
# No test path given: pytest runs the testpaths of pyproject.toml (tests/); given one, only it.
# Deprecation warnings raised by our own modules are errors: pyproject.toml's filterwarnings
# (Python's) and tests/conftest.py (Home Assistant's logged reports).
chroot "$root" /bin/bash -c "cd /proj && /opt/ha/bin/python -m pytest -q -rs -p no:cacheprovider --no-cov $marks $args"
