#!/usr/bin/env bash
# End-to-end smoke test of the images: builds and starts docker-compose.yml under a project name
# of its own, runs `pnpm demo` against it (codes read from MailDev and the SMS inbox), prints the
# services' logs when anything fails, and always removes the containers and their volumes.
#   bash scripts/compose-smoke.sh
# Needs Docker Compose v2, and Node.js with the workspace installed (for `pnpm demo`).
# GATEWAY_HOST_PORT (the load balancer), DASHBOARD_HOST_PORT, MAILDEV_HOST_PORT,
# SMS_INBOX_HOST_PORT and WEBHOOK_INBOX_HOST_PORT move the published ports (default 3000, 3001,
# 1080, 1081 and 1082). After the demo it checks that its sign-in reached the webhook inbox as a
# signed user.signed_in event.
# The `observability` profile (Prometheus, Grafana: registry images) is not started here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/smoke-lib.sh
source scripts/smoke-lib.sh

project="otp-smoke-$(date +%s)-$$"
export GATEWAY_HOST_PORT="${GATEWAY_HOST_PORT:-3000}"
export DASHBOARD_HOST_PORT="${DASHBOARD_HOST_PORT:-3001}"
export MAILDEV_HOST_PORT="${MAILDEV_HOST_PORT:-1080}"
export SMS_INBOX_HOST_PORT="${SMS_INBOX_HOST_PORT:-1081}"
export WEBHOOK_INBOX_HOST_PORT="${WEBHOOK_INBOX_HOST_PORT:-1082}"
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

echo "compose-smoke: project $project, ports: load balancer $GATEWAY_HOST_PORT, dashboard $DASHBOARD_HOST_PORT, MailDev $MAILDEV_HOST_PORT, SMS inbox $SMS_INBOX_HOST_PORT, webhook inbox $WEBHOOK_INBOX_HOST_PORT"
# The service images differ only in their last layers. Building one first lets the others reuse
# its layers instead of running the same dependency install several times in parallel.
compose build migrate
compose up --build --wait --wait-timeout 300
compose ps

# Horizontally scaled: two healthy replicas of the gateway and of each worker, behind nginx.
for service in gateway email-worker sms-worker webhook-worker; do
  healthy=$(compose ps --status running --format '{{.Health}}' "$service" | grep -c '^healthy$' || true)
  if [ "$healthy" -ne 2 ]; then
    echo "compose-smoke: expected 2 healthy $service replicas, found $healthy" >&2
    exit 1
  fi
done
curl -fsS --max-time 5 "http://localhost:$GATEWAY_HOST_PORT/health" >/dev/null
# The queue dashboard refuses anonymous requests, and answers its probe without credentials.
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:$DASHBOARD_HOST_PORT/")
if [ "$status" != "401" ]; then
  echo "compose-smoke: the dashboard answered $status to an anonymous request, not 401" >&2
  exit 1
fi
curl -fsS --max-time 5 "http://localhost:$DASHBOARD_HOST_PORT/health/ready" >/dev/null

DEMO_BASE_URL="http://localhost:$GATEWAY_HOST_PORT" \
  DEMO_MAILDEV_URL="http://localhost:$MAILDEV_HOST_PORT" \
  DEMO_SMS_INBOX_URL="http://localhost:$SMS_INBOX_HOST_PORT" \
  DEMO_INBOX=compose \
  pnpm demo

# The demo's sign-in, relayed from the events outbox by a webhook worker and delivered signed to
# the inbox (which checks the signature with the standardwebhooks package).
expect_signed_in_event compose-smoke "http://localhost:$WEBHOOK_INBOX_HOST_PORT/webhooks"
echo "compose-smoke: passed"
