# shellcheck shell=bash
# What the smoke scripts (compose-smoke.sh, dev-deps-smoke.sh) share; sourced, not run.

# expect_signed_in_event NAME INBOX_URL: waits up to 30 s for a user.signed_in event whose
# signature the webhook inbox checked (with the standardwebhooks package); fails naming NAME.
expect_signed_in_event() {
  local name=$1 url=$2 events='[]' signed_in=0
  for _ in $(seq 1 60); do
    events=$(curl -fsS --max-time 5 "$url" || echo '[]')
    signed_in=$(node -e 'const events = JSON.parse(process.argv[1]);
      process.stdout.write(String(events.filter((e) => e.type === "user.signed_in" && e.verified).length))' "$events")
    [ "$signed_in" -gt 0 ] && return 0
    sleep 0.5
  done
  echo "$name: no signed user.signed_in event reached the webhook inbox; it holds: $events" >&2
  return 1
}
