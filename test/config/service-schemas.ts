import { DashboardConfigSchema } from '@otp/dashboard';
import { EmailWorkerConfigSchema } from '@otp/email-worker';
import { GatewayConfigSchema } from '@otp/gateway';
import { SmsWorkerConfigSchema } from '@otp/sms-worker';
import { WebhookWorkerConfigSchema } from '@otp/webhook-worker';

/** The configuration schema of every service, by service name: what the docs and examples are checked against. */
export const SERVICE_SCHEMAS = {
  gateway: GatewayConfigSchema,
  'email-worker': EmailWorkerConfigSchema,
  'sms-worker': SmsWorkerConfigSchema,
  'webhook-worker': WebhookWorkerConfigSchema,
  dashboard: DashboardConfigSchema,
};
