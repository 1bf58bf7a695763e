import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, type TestGateway } from '../../testing/gateway.harness.ts';
import {
  CALLBACK_PATH,
  callbackPath,
  deliveryOf,
  postCallback,
  sentSmsChallenge,
  statusParams,
} from '../../testing/twilio-callback.ts';

// Only Twilio can change a delivery status: every callback is checked against X-Twilio-Signature
// (computed over the full URL, query included, and the form fields) before anything is read.

const authToken = randomBytes(16).toString('hex');
const { gateway, database } = useTestGateway({ env: { TWILIO_AUTH_TOKEN: authToken } });
const { gateway: behindProxy } = useTestGateway(
  { env: { TWILIO_AUTH_TOKEN: authToken, PUBLIC_BASE_URL: 'https://otp.example.com/' } },
  database,
);
const { gateway: withoutToken } = useTestGateway({}, database);

describe('the signature of Twilio status callbacks', () => {
  it.each([
    ['a missing signature', { signature: null }],
    ['a signature made with another auth token', { authToken: randomBytes(16).toString('hex') }],
    ['a garbage signature', { signature: 'not-a-signature' }],
    ['a signature of another URL', { signedOrigin: 'https://elsewhere.example.com' }],
  ] as const)('refuses %s with 403 invalid_signature and changes nothing', async (_name, options) => {
    const { id, sid } = await sentSmsChallenge(gateway);
    const before = await deliveryOf(gateway, id);

    const response = await postCallback(gateway, callbackPath(id), statusParams(sid, 'delivered'), authToken, options);

    expect(response.status).toBe(403);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body.code).toBe('invalid_signature');
    expect(await deliveryOf(gateway, id)).toEqual(before);
  });

  it('refuses a report whose query was changed after signing (the ids cannot be forged)', async () => {
    const target = await sentSmsChallenge(gateway);
    const signed = await sentSmsChallenge(gateway);
    const before = await deliveryOf(gateway, target.id);

    const response = await postCallback(
      gateway,
      callbackPath(target.id),
      statusParams(target.sid, 'undelivered', '30003'),
      authToken,
      { signedPath: callbackPath(signed.id) },
    );

    expect(response.status).toBe(403);
    expect(await deliveryOf(gateway, target.id)).toEqual(before);
  });

  it('refuses a report whose fields were changed after signing', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    const params = statusParams(sid, 'delivered');
    const response = await gateway.app.inject({
      method: 'POST',
      url: callbackPath(id),
      payload: new URLSearchParams({ ...params, MessageStatus: 'undelivered' }).toString(),
      headers: {
        host: 'otp.test',
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(
          authToken,
          `http://otp.test${callbackPath(id)}`,
          params,
        ),
      },
    });

    expect(response.statusCode).toBe(403);
    expect((await deliveryOf(gateway, id)).delivery.status).toBe('sent');
  });

  it('checks against PUBLIC_BASE_URL when set: the URL Twilio called, not the Host behind the proxy', async () => {
    const { id, sid } = await sentSmsChallenge(behindProxy);
    const params = statusParams(sid, 'delivered');
    const internal = { host: 'gateway.internal:3000' };

    const signedForHost = await postCallback(behindProxy, callbackPath(id), params, authToken, internal);
    expect(signedForHost.status).toBe(403);

    const signedForPublicUrl = await postCallback(behindProxy, callbackPath(id), params, authToken, {
      ...internal,
      signedOrigin: 'https://otp.example.com',
    });
    expect(signedForPublicUrl.status).toBe(204);
    expect((await deliveryOf(behindProxy, id)).delivery.status).toBe('delivered');
  });

  it('does not exist when TWILIO_AUTH_TOKEN is unset (404 not_found, even signed)', async () => {
    const { id, sid } = await sentSmsChallenge(withoutToken);

    const response = await postCallback(withoutToken, callbackPath(id), statusParams(sid, 'delivered'), authToken);

    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not_found');
    expect((await deliveryOf(withoutToken, id)).delivery.status).toBe('sent');
  });

  it('refuses a JSON body with 415 (form bodies only), and the JSON API still refuses form bodies', async () => {
    const { id, sid } = await sentSmsChallenge(gateway);
    const json = await post(gateway.app, callbackPath(id), statusParams(sid, 'delivered'));
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('unsupported_media_type');

    const form = await gateway.app.inject({
      method: 'POST',
      url: '/v1/otp/challenges',
      payload: 'channel=sms&to=%2B14155550100',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    expect((await deliveryOf(gateway, id)).delivery.status).toBe('sent');
  });

  it('is listed in the OpenAPI document when enabled, and only then', async () => {
    const paths = async (app: TestGateway['app']) =>
      (JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: object }).paths;

    const documented = (await paths(gateway.app)) as Record<string, { post?: { responses: object } }>;
    expect(Object.keys(documented[CALLBACK_PATH]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['204', '400', '403', '415']),
    );
    expect(await paths(withoutToken.app)).not.toHaveProperty([CALLBACK_PATH]);
  });
});
