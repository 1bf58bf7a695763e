#!/usr/bin/env bash
# Smoke test of development with Docker only, as the README tells it: `pnpm dev:deps` starts
# Postgres, Redis, MailDev and the SMS inbox in containers (docker-compose.deps.yml) and writes an
# env file for them; `pnpm start` (pnpm dev without watching) runs every service on the host
# against them; `pnpm demo` signs in by email and by SMS, reading the codes from MailDev and the
# SMS inbox; the sign-in reaches the webhook inbox signed. Always stops the services and removes
# the containers and their volumes.
#   bash scripts/dev-deps-smoke.sh
# Uses host ports of its own for the containers (15432, 16379, 11025, 11080-11082) and a fresh env
# file, so it leaves the machine's Postgres, Redis and .env alone; the services take their
# default ports (3000-3002, 3100-3103).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/smoke-lib.sh
source scripts/smoke-lib.sh

export COMPOSE_PROJECT_NAME="otp-deps-smoke-$(date +%s)-$$"
export POSTGRES_HOST_PORT=15432 REDIS_HOST_PORT=16379 MAILDEV_SMTP_HOST_PORT=11025
export MAILDEV_HOST_PORT=11080 SMS_INBOX_HOST_PORT=11081 WEBHOOK_INBOX_HOST_PORT=11082
workdir=$(mktemp -d)
export ENV_FILE="$workdir/.env"
# The env file decides where the services connect, not a DATABASE_URL left in this shell.
unset DATABASE_URL REDIS_URL
services_pid=

finish() {
  local status=$?
  if [ -n "$services_pid" ]; then
    kill -INT -- "-$services_pid" 2>/dev/null || true
    wait "$services_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    echo "dev-deps-smoke: FAILED (exit $status); the services' output follows" >&2
    tail -n 200 "$workdir/services.log" >&2 || true
  fi
  pnpm --silent dev:deps down --volumes --remove-orphans --timeout 30 >/dev/null 2>&1 ||
    echo "dev-deps-smoke: 'pnpm dev:deps down' failed; remove project $COMPOSE_PROJECT_NAME by hand" >&2
  rm -rf "$workdir"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

pnpm dev:deps
grep -q '^DATABASE_URL=postgres://postgres@127.0.0.1:15432/otp$' "$ENV_FILE" ||
  { echo "dev-deps-smoke: $ENV_FILE does not point at the Postgres container" >&2; exit 1; }

# Its own process group, so one signal stops pnpm, concurrently and every service.
set -m
pnpm start >"$workdir/services.log" 2>&1 &
services_pid=$!
set +m
for _ in $(seq 1 120); do
  if curl -fsS --max-time 2 http://127.0.0.1:3000/health/ready >/dev/null 2>&1 &&
    curl -fsS --max-time 2 http://127.0.0.1:3101/health/ready >/dev/null 2>&1 &&
    curl -fsS --max-time 2 http://127.0.0.1:3102/health/ready >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
curl -fsS --max-time 2 http://127.0.0.1:3000/health/ready

DEMO_BASE_URL=http://127.0.0.1:3000 \
  DEMO_MAILDEV_URL="http://127.0.0.1:$MAILDEV_HOST_PORT" \
  DEMO_SMS_INBOX_URL="http://127.0.0.1:$SMS_INBOX_HOST_PORT" \
  DEMO_INBOX=compose \
  pnpm demo

expect_signed_in_event dev-deps-smoke "http://127.0.0.1:$WEBHOOK_INBOX_HOST_PORT/webhooks"
echo "dev-deps-smoke: passed"
