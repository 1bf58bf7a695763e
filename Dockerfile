# Images of the OTP services: one Dockerfile, one target per service.
#   docker build --target gateway -t otp/gateway .     (also email-worker, sms-worker, webhook-worker,
#                                                        dashboard, migrate, and sms-inbox, a development-only fake)
# There is no build step: Node runs the TypeScript sources with its own type stripping, and the
# workspace packages export their src/index.ts. Plain Dockerfile syntax only (no BuildKit-only
# features), so the classic builder of older engines builds it too.

# pnpm at the version package.json's "packageManager" names (corepack may be unable to fetch it).
FROM node:24-bookworm-slim AS pnpm
WORKDIR /app
# The version is installed here, so pnpm need not manage (and pin in the lockfile) its own
# version: the registry may not carry every platform build of pnpm that such a pin records.
ENV pnpm_config_pm_on_fail=ignore
COPY package.json ./
RUN npm install -g --no-fund --no-audit \
      "pnpm@$(node -p "require('./package.json').packageManager.replace(/^pnpm@/, '').split('+')[0]")" \
  && pnpm --version

# Every package.json of the workspace with the lockfile, nothing else: the install below then
# reruns only when a manifest or the lockfile changes, not on every source edit.
FROM node:24-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
  && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /manifests/ \
  && find packages services -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# Production dependencies only, of everything but the test tooling (the test kit and the
# Testcontainers module: testcontainers, vitest, ...).
FROM pnpm AS deps
COPY --from=manifests /manifests/ ./
RUN pnpm install --prod --frozen-lockfile --filter '!@otp/testkit' --filter '!@otp/testcontainers'

# What every service image holds: dependencies and sources, owned by root and read-only for the
# unprivileged user the services run as. Only the dev outbox folder is writable.
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
COPY --from=deps /app ./
COPY . .
RUN mkdir .outbox && chown node:node .outbox
USER node

# Development only: the compose stack's SMS inbox, the test kit's Twilio-shaped server (and, with
# WEBHOOK_INBOX_SECRET, its webhook receiver on 1082). It needs the test kit's dependencies, which
# the service images leave out.
FROM pnpm AS sms-inbox-deps
COPY --from=manifests /manifests/ ./
RUN pnpm install --prod --frozen-lockfile --filter '@otp/testkit...'

FROM node:24-bookworm-slim AS sms-inbox
WORKDIR /app
COPY --from=sms-inbox-deps /app ./
COPY . .
USER node
EXPOSE 1081 1082
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SMS_INBOX_PORT||1081)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "packages/testkit/src/sms-inbox.main.ts"]

# One-shot: applies pending migrations to DATABASE_URL, then exits.
FROM runtime AS migrate
HEALTHCHECK NONE
CMD ["node", "--experimental-strip-types", "packages/db/src/migrate.cli.ts"]

FROM runtime AS email-worker
EXPOSE 3101
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.EMAIL_WORKER_PORT||3101)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "services/email-worker/src/main.ts"]

FROM runtime AS sms-worker
EXPOSE 3102
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SMS_WORKER_PORT||3102)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "services/sms-worker/src/main.ts"]

# Delivers the events outbox as signed webhooks to WEBHOOK_ENDPOINTS (the `webhooks` queue).
FROM runtime AS webhook-worker
EXPOSE 3103
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WEBHOOK_WORKER_PORT||3103)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "services/webhook-worker/src/main.ts"]

# The queue dashboard (bull-board). Needs DASHBOARD_USER + DASHBOARD_PASSWORD and/or DASHBOARD_TOKEN.
FROM runtime AS dashboard
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DASHBOARD_PORT||3001)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "services/dashboard/src/main.ts"]

# Last, so a plain `docker build .` gives the gateway.
FROM runtime AS gateway
# The API; the admin API (ADMIN_PORT) and /metrics (GATEWAY_OPS_PORT) are for the cluster only.
EXPOSE 3000 3002 3100
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--experimental-strip-types", "services/gateway/src/main.ts"]
