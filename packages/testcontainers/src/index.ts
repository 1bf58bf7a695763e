export { containerEngineStatus } from './engine.ts';
export { codeInEmail, codeInSms } from './inbox.ts';
export { OtpStackContainer, startOtpStack } from './otp-stack.container.ts';
export type { OtpService, OtpStackLimits, OtpStackOptions, OtpStackWebhookEndpoint } from './stack-options.ts';
export {
  OtpStackClient,
  type OtpStackConnection,
  OtpStackRequestError,
  type OtpTokens,
  type SignInResult,
  StartedOtpStack,
} from './started-otp-stack.ts';
