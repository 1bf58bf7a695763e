import type { TSchema } from 'typebox';
import { MfaRequired } from './accounts/auth/auth.schemas.ts';
import { Verified } from './accounts/auth/challenge-purposes.ts';
import { OpenIdConfiguration } from './accounts/auth/jwks.routes.ts';
import { HotpEnrolment, TotpEnrolment } from './accounts/factors/factors.schemas.ts';
import { SessionList, SessionView } from './accounts/me/sessions.schemas.ts';
import { MeView, ProfileBody, Tokens, TokensAndUser, UserView } from './accounts/users/user.schemas.ts';
import {
  ChallengeCreated,
  ChallengeView,
  RequestChallengeBody,
  ResendAccepted,
} from './codes/challenges/challenge.schemas.ts';
import { Problem } from './http/schemas.ts';

// The public API's contract names (http/openapi.contract.ts): what a generated client calls each
// operation and each schema. Published names never change; a new route needs its line here, or the
// document is not generated and openapi.contract.test.ts fails.

export const PUBLIC_OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /.well-known/jwks.json': 'getJwks',
  'GET /.well-known/openid-configuration': 'getOpenIdConfiguration',
  'GET /health/live': 'getLiveness',
  'GET /health/ready': 'getReadiness',
  'POST /v1/otp/challenges': 'requestChallenge',
  'GET /v1/otp/challenges/{id}': 'getChallenge',
  'POST /v1/otp/challenges/{id}/resend': 'resendChallenge',
  'POST /v1/otp/challenges/{id}/verify': 'verifyChallenge',
  'POST /v1/auth/register': 'register',
  'POST /v1/auth/login': 'login',
  'POST /v1/auth/mfa': 'completeMfa',
  'POST /v1/auth/refresh': 'refreshTokens',
  'POST /v1/auth/logout': 'logout',
  'POST /v1/auth/logout-all': 'logoutAll',
  'POST /v1/auth/password/forgot': 'forgotPassword',
  'POST /v1/auth/password/reset': 'resetPassword',
  'GET /v1/me': 'getMe',
  'PATCH /v1/me': 'updateMe',
  'DELETE /v1/me': 'deleteMe',
  'POST /v1/me/email': 'changeEmail',
  'POST /v1/me/password': 'changePassword',
  'POST /v1/me/phone': 'setPhone',
  'GET /v1/me/sessions': 'listSessions',
  'DELETE /v1/me/sessions/{id}': 'endSession',
  'POST /v1/me/totp': 'enrolTotp',
  'POST /v1/me/totp/verify': 'enableTotp',
  'POST /v1/me/totp/validate': 'checkTotp',
  'DELETE /v1/me/totp': 'removeTotp',
  'POST /v1/me/hotp': 'enrolHotp',
  'POST /v1/me/hotp/verify': 'enableHotp',
  'POST /v1/me/hotp/resync': 'resyncHotp',
  'DELETE /v1/me/hotp': 'removeHotp',
  'POST /v1/me/recovery-codes': 'regenerateRecoveryCodes',
  // Listed only when TWILIO_AUTH_TOKEN is set (so not in the committed document).
  'POST /v1/webhooks/twilio/status': 'receiveTwilioStatus',
};

export const PUBLIC_SCHEMA_NAMES: Readonly<Record<string, TSchema>> = {
  Problem,
  ChallengeRequest: RequestChallengeBody,
  ChallengeCreated,
  ResendAccepted,
  Challenge: ChallengeView,
  User: UserView,
  Tokens,
  SignedIn: TokensAndUser,
  MfaRequired,
  Verified,
  Me: MeView,
  ProfileUpdate: ProfileBody,
  Session: SessionView,
  SessionList,
  TotpEnrolment,
  HotpEnrolment,
  OpenIdConfiguration,
};
