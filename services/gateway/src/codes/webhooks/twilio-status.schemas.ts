import Type, { type Static } from 'typebox';
import { problemResponses, Uuid } from '../../http/schemas.ts';

/**
 * The query the SMS worker appends to the callback URL it gives Twilio. Twilio signs the whole
 * URL, query included, so a valid signature vouches for these ids too.
 */
export const TwilioStatusQuery = Type.Object(
  {
    challengeId: Uuid,
    // Query values are strings (types are never coerced here); the handler turns it into a number.
    sendNumber: Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'Which send of the challenge (1 = first)' }),
  },
  { additionalProperties: false },
);
export type TwilioStatusQuery = Static<typeof TwilioStatusQuery>;

/**
 * The fields of Twilio's status callback this route reads. Twilio sends many more (AccountSid,
 * To, From, SmsStatus, ApiVersion...): they are allowed, and all of them are signed.
 */
export const TwilioStatusBody = Type.Object(
  {
    MessageSid: Type.String({ pattern: '^[A-Z]{2}[0-9a-fA-F]{32}$', description: 'The message (SM...)' }),
    MessageStatus: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'queued, sending, sent, delivered, undelivered, failed... (only the last three change anything)',
    }),
    ErrorCode: Type.Optional(Type.String({ maxLength: 16, description: "Twilio's error code, for failures" })),
  },
  { additionalProperties: true, description: "Twilio's message status callback (form-encoded)" },
);
export type TwilioStatusBody = Static<typeof TwilioStatusBody>;

export const twilioStatusSchema = {
  tags: ['otp'],
  summary: "Twilio's message status callback (signed with X-Twilio-Signature)",
  description:
    'Called by Twilio, not by clients. Sets `delivery.status` of the latest send of an SMS challenge to ' +
    'delivered, undelivered or failed; other statuses and reports about another message change nothing. ' +
    'Exists only when TWILIO_AUTH_TOKEN is set.',
  consumes: ['application/x-www-form-urlencoded'],
  querystring: TwilioStatusQuery,
  body: TwilioStatusBody,
  headers: Type.Object({
    'x-twilio-signature': Type.Optional(Type.String({ description: "Twilio's HMAC-SHA1 signature of URL and body" })),
  }),
  response: {
    204: Type.Null({ description: 'Accepted (applied, or nothing to change)' }),
    ...problemResponses(400, 403, 415),
  },
};
