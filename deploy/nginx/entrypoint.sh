#!/bin/bash
# Renders nginx.conf.template and runs nginx in the foreground, reloading it when the set of
# gateway addresses changes.
#
# Why the reload loop: nginx 1.22 (Debian bookworm) resolves the names in an `upstream` block
# once, when it loads its configuration. In compose, `gateway` resolves to every replica, but a
# recreated or added replica gets a new address that nginx would never learn. (The `resolve`
# server parameter that re-resolves by itself needs nginx 1.27.3; a variable in proxy_pass
# re-resolves too but loses the upstream block: no keep-alive pool, no retry on the next
# replica.) So this script looks the name up every RESOLVE_INTERVAL seconds and reloads nginx
# gracefully (old workers finish their requests) when the answer changes.
#
# Environment: LISTEN_PORT (8080), GATEWAY_HOST (gateway), GATEWAY_PORT (3000),
# RESOLVE_INTERVAL (5), RUNTIME_DIR (/tmp/nginx).
set -euo pipefail

LISTEN_PORT=${LISTEN_PORT:-8080}
GATEWAY_HOST=${GATEWAY_HOST:-gateway}
GATEWAY_PORT=${GATEWAY_PORT:-3000}
RESOLVE_INTERVAL=${RESOLVE_INTERVAL:-5}
RUNTIME_DIR=${RUNTIME_DIR:-/tmp/nginx}
CONF="$RUNTIME_DIR/nginx.conf"
mkdir -p "$RUNTIME_DIR"

addresses() { getent ahostsv4 "$GATEWAY_HOST" | awk '{ print $1 }' | sort -u | tr '\n' ' '; }

# One `server` line per address, so the upstream lists the replicas themselves (not the name).
render() {
  awk -v port="$LISTEN_PORT" -v dir="$RUNTIME_DIR" -v addrs="$1" -v gwport="$GATEWAY_PORT" '
    {
      gsub(/\$\{LISTEN_PORT\}/, port); gsub(/\$\{RUNTIME_DIR\}/, dir); gsub(/\$\{ACCESS_LOG\}/, "/dev/stdout")
      if ($0 ~ /\$\{GATEWAY_ADDRESS\}/) {
        n = split(addrs, list, " ")
        for (i = 1; i <= n; i++) { line = $0; gsub(/\$\{GATEWAY_ADDRESS\}/, list[i] ":" gwport, line); print line }
        next
      }
      print
    }' /etc/nginx/otp/nginx.conf.template >"$CONF"
}

current=""
until current=$(addresses) && [ -n "$current" ]; do
  echo "waiting for $GATEWAY_HOST to resolve" >&2
  sleep 1
done
render "$current"
nginx -t -q -p "$RUNTIME_DIR" -c "$CONF" -e stderr
nginx -p "$RUNTIME_DIR" -c "$CONF" -e stderr -g 'daemon off;' &
nginx_pid=$!
# docker stop sends SIGTERM: ask nginx for a graceful stop (SIGQUIT), in-flight requests finish.
trap 'kill -QUIT "$nginx_pid" 2>/dev/null || true' TERM INT

while kill -0 "$nginx_pid" 2>/dev/null; do
  sleep "$RESOLVE_INTERVAL" &
  wait $! || true
  next=$(addresses || true)
  if [ -n "$next" ] && [ "$next" != "$current" ]; then
    echo "gateway replicas changed: [$current] -> [$next]; reloading nginx" >&2
    render "$next"
    if nginx -t -q -p "$RUNTIME_DIR" -c "$CONF" -e stderr; then
      kill -HUP "$nginx_pid"
      current=$next
    fi
  fi
done
wait "$nginx_pid"
