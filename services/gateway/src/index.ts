export { buildApp } from './app.ts';
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './codes/outbox/outbox.relay.ts';
export { type GatewayConfig, GatewayConfigSchema, parseGatewayConfig } from './config.ts';
export {
  closeGatewayDeps,
  createDeliveryQueues,
  createGatewayDeps,
  type GatewayDeps,
  type RunningGatewayDeps,
} from './deps.ts';
