export { containerEngineStatus } from './engine.ts';
export { codeInEmail, codeInSms } from './inbox.ts';
export { OtpStackContainer, startOtpStack } from './otp-stack.container.ts';
export type { OtpService, OtpStackLimits, OtpStackOptions } from './stack-options.ts';
export { OtpStackRequestError, type OtpTokens, type SignInResult, StartedOtpStack } from './started-otp-stack.ts';
