#!/usr/bin/env bash
# make demo: a real Home Assistant on http://localhost:8123 with Espresso Care watching a
# simulated smart plug that replays an espresso morning (demo/traces/espresso_morning.csv).
#
# Environment:
#   DEMO_SPEED=10      how much faster than real time idle stretches play (1-100); shots,
#                      flushes, steaming and backflushing always play in real time
#   DEMO_PORT=8123     HTTP port
#   DEMO_HOST=127.0.0.1  address to listen on (0.0.0.0 to reach the demo from another machine)
#   DEMO_TIME_ZONE=UTC time zone of the demo home ("shots today" resets at its midnight)
#   DEMO_RESET=1       forget the demo's state (users, entries, history) and start afresh
#
# Idempotent: the venv (.venv-demo) and demo/config are reused by the next run. Everything in
# demo/config but configuration.yaml is generated here and ignored by git. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-demo
config=demo/config
export DEMO_PORT=${DEMO_PORT:-8123}
export DEMO_HOST=${DEMO_HOST:-127.0.0.1}
export DEMO_SPEED=${DEMO_SPEED:-10}
export DEMO_TIME_ZONE=${DEMO_TIME_ZONE:-UTC}

log() { printf '[demo] %s\n' "$*" >&2; }

if ! [[ $DEMO_SPEED =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v s="$DEMO_SPEED" 'BEGIN { exit !(s >= 1 && s <= 100) }'; then
    log "DEMO_SPEED must be a number from 1 to 100, not '$DEMO_SPEED'"
    exit 2
fi

# 1. Python >= 3.13.2 and Home Assistant with what the demo's integrations need.
bash scripts/demo_venv.sh "$venv"

# 2. The configuration directory.
if [ "${DEMO_RESET:-0}" = 1 ]; then
    log "DEMO_RESET=1: removing the demo's state"
    find "$config" -mindepth 1 -maxdepth 1 ! -name configuration.yaml -exec rm -rf {} +
fi
mkdir -p "$config/custom_components" "$config/.storage"
# Symlinks, so the demo always runs the working tree's code.
ln -sfn ../../../custom_components/espresso_care "$config/custom_components/espresso_care"
ln -sfn ../../custom_components/espresso_sim "$config/custom_components/espresso_sim"
[ -f "$config/automations.yaml" ] || echo "[]" > "$config/automations.yaml"
# Espresso Care copies its notification blueprint here at start unless a file of that name
# exists (a user's edits stay): the demo's copy is generated, so it follows the working tree.
rm -f "$config/blueprints/automation/espresso_care/maintenance_due.yaml"
touch "$config/scripts.yaml" "$config/scenes.yaml"
if [ ! -f "$config/.storage/onboarding" ]; then
    # Leave only the "create user" step of onboarding; scripts/demo_provision.py does it through
    # the onboarding API. (The core-config step would set up integrations that need the internet.)
    cat > "$config/.storage/onboarding" <<'JSON'
{
  "version": 4,
  "minor_version": 1,
  "key": "onboarding",
  "data": {"done": ["core_config", "analytics", "integration"]}
}
JSON
fi

# 3. Start Home Assistant, provision it, and keep it running until Ctrl-C.
if (exec 3<>"/dev/tcp/127.0.0.1/$DEMO_PORT") 2>/dev/null; then
    log "port $DEMO_PORT is in use (another demo?); stop it or set DEMO_PORT"
    exit 1
fi
log "starting Home Assistant $("$venv/bin/python" -c 'from homeassistant.const import __version__; print(__version__)') (log: $config/home-assistant.log)"
"$venv/bin/hass" -c "$config" &
hass_pid=$!
phone_pid=
stop() {
    trap - INT TERM EXIT
    if [ -n "$phone_pid" ]; then
        kill -TERM "$phone_pid" 2>/dev/null || true
    fi
    if kill -0 "$hass_pid" 2>/dev/null; then
        log "stopping Home Assistant"
        kill -TERM "$hass_pid" 2>/dev/null || true
        wait "$hass_pid" 2>/dev/null || true
    fi
}
trap stop INT TERM EXIT

if "$venv/bin/python" scripts/demo_provision.py --port "$DEMO_PORT" --config "$config" --pid "$hass_pid"; then
    # The demo's phone: prints the notifications of the blueprint's automation ([phone] lines).
    "$venv/bin/python" scripts/demo_phone.py --port "$DEMO_PORT" --config "$config" &
    phone_pid=$!
else
    log "provisioning failed; Home Assistant keeps running for a look (Ctrl-C stops it)"
fi
cat >&2 <<EOF

  Espresso Care demo: http://localhost:$DEMO_PORT   user: ${DEMO_USERNAME:-demo}   password: ${DEMO_PASSWORD:-demo}
  The simulated plug replays an espresso morning in a loop, idle stretches $DEMO_SPEED× faster
  (at ×10 the first shot comes after about 4½ minutes). API token: $config/.demo_token. Ctrl-C stops.
  Assist (voice sentences installed) answers "how many shots since the last backflush"; the
  automation from the notification blueprint notifies the demo phone ([phone] lines here).

EOF
wait "$hass_pid"
