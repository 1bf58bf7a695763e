#!/usr/bin/env bash
# End-to-end smoke test of the images: builds and starts docker-compose.yml under a project name
# of its own, runs `pnpm demo` against it (codes read from MailDev and the SMS inbox), prints the
# services' logs when anything fails, and always removes the containers and their volumes.
#   bash scripts/compose-smoke.sh
# Needs Docker Compose v2, and Node.js with the workspace installed (for `pnpm demo`).
# GATEWAY_HOST_PORT, MAILDEV_HOST_PORT and SMS_INBOX_HOST_PORT move the published ports (default
# 3000, 1080 and 1081).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

project="otp-smoke-$(date +%s)-$$"
export GATEWAY_HOST_PORT="${GATEWAY_HOST_PORT:-3000}"
export MAILDEV_HOST_PORT="${MAILDEV_HOST_PORT:-1080}"
export SMS_INBOX_HOST_PORT="${SMS_INBOX_HOST_PORT:-1081}"
compose() { docker compose --project-name "$project" "$@"; }

finish() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "compose-smoke: FAILED (exit $status); state and logs of the services follow" >&2
    compose --ansi never ps --all || true
    compose --ansi never logs --no-color --timestamps || true
  fi
  echo "compose-smoke: removing project $project"
  compose down --volumes --remove-orphans --timeout 30 >/dev/null 2>&1 ||
    echo "compose-smoke: 'docker compose down' failed; remove project $project by hand" >&2
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM # runs finish on Ctrl-C too

echo "compose-smoke: project $project, ports: gateway $GATEWAY_HOST_PORT, MailDev $MAILDEV_HOST_PORT, SMS inbox $SMS_INBOX_HOST_PORT"
# The service images differ only in their last layers. Building one first lets the others reuse
# its layers instead of running the same dependency install several times in parallel.
compose build migrate
compose up --build --wait --wait-timeout 300
compose ps

DEMO_BASE_URL="http://localhost:$GATEWAY_HOST_PORT" \
  DEMO_MAILDEV_URL="http://localhost:$MAILDEV_HOST_PORT" \
  DEMO_SMS_INBOX_URL="http://localhost:$SMS_INBOX_HOST_PORT" \
  DEMO_INBOX=compose \
  pnpm demo
echo "compose-smoke: passed"
