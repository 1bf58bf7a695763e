// The gateway's package entry: what other packages, scripts and tests may use of it.
export {
  combineAmr,
  FIRST_FACTOR_AMR,
  type FirstFactorMethod,
  SECOND_FACTOR_AMR,
  type SecondFactorMethod,
} from './accounts/auth/amr.ts';
export { challengePurposes } from './accounts/auth/challenge-purposes.ts';
export { createPasswordHasher, type PasswordHasher } from './accounts/auth/password.service.ts';
export { createSignInThrottle, type SignInThrottle } from './accounts/auth/sign-in-throttle.ts';
export { JWT_ALGORITHMS, type JwtAlgorithm } from './accounts/auth/signing-key.ts';
export { buildAdminApp } from './admin/admin.app.ts';
export { buildApp } from './app.ts';
export { requestChallenge } from './codes/challenges/challenge.request.service.ts';
export { verifyChallenge } from './codes/challenges/challenge.verify.service.ts';
export {
  type OutboxReconciler,
  type OutboxReconcilerOptions,
  startOutboxReconciler,
} from './codes/outbox/outbox.reconciler.ts';
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './codes/outbox/outbox.relay.ts';
export { type GatewayConfig, GatewayConfigSchema, parseGatewayConfig } from './config.ts';
export type { GatewayDeps } from './deps.ts';
export { requestContext } from './events/request-context.ts';
export { generateAdminKey, generateServerKey, hashKey } from './http/bearer-keys.ts';
export { rateLimitNamespace } from './http/rate-limit.plugin.ts';
export { closeGatewayDeps, createDeliveryQueues, createGatewayDeps, type RunningGatewayDeps } from './wiring.ts';
