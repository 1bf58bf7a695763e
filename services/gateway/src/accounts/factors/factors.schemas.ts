import Type from 'typebox';
import { problemResponses } from '../../http/schemas.ts';

export const FactorCode = Type.String({
  pattern: '^[0-9]{6,8}$',
  description: 'The code the authenticator app or token shows now',
});
export const RecoveryCode = Type.String({
  minLength: 16,
  maxLength: 24,
  pattern: '^[A-Za-z2-7 -]+$',
  description: 'One of the recovery codes (dashes and case do not matter)',
});
export const CodeBody = Type.Object({ code: FactorCode }, { additionalProperties: false });
export const ProofBody = Type.Union([
  CodeBody,
  Type.Object({ recoveryCode: RecoveryCode }, { additionalProperties: false }),
]);
export const RecoveryCodes = Type.Array(Type.String(), {
  description: 'Shown once: each works once in place of a code; store them offline',
});

export const TotpEnrolment = Type.Object(
  {
    secret: Type.String({ description: 'Base32 secret, without padding (for typing it in)' }),
    otpauthUrl: Type.String({ description: 'Key Uri Format URL (otpauth://totp/...)' }),
    qrCodeSvg: Type.String({ description: 'The otpauthUrl as a QR code, an SVG document' }),
  },
  { description: 'Pending until a first code is verified' },
);
export const HotpEnrolment = Type.Object(
  {
    secret: Type.String({ description: 'Base32 secret, without padding' }),
    otpauthUrl: Type.String({ description: 'Key Uri Format URL (otpauth://hotp/...)' }),
    counter: Type.Integer({ minimum: 0, description: 'The counter the next code is expected at' }),
  },
  { description: 'Pending until a first code is verified' },
);
export const HotpBody = Type.Object(
  {
    secret: Type.Optional(
      Type.String({
        minLength: 26,
        maxLength: 128,
        pattern: '^[A-Za-z2-7]+=*$',
        description: "A hardware token's base32 secret (at least 128 bits); omitted: one is generated",
      }),
    ),
  },
  { additionalProperties: false },
);
export const Enabled = Type.Object(
  { enabled: Type.Literal(true), recoveryCodes: Type.Optional(RecoveryCodes) },
  { description: 'Enabled; recoveryCodes when this is the first factor of the account' },
);

export const BEARER_PROBLEMS = problemResponses(400, 401, 403, 404, 409, 413, 415, 429);
