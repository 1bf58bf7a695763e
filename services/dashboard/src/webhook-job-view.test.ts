import { describe, expect, it } from 'vitest';
import { HIDDEN } from './job-view.ts';
import { publicWebhookJobData, publicWebhookReturnValue } from './webhook-job-view.ts';

describe('webhook job data on the board', () => {
  const job = {
    v: 1,
    eventId: '5f0c1b8e-2d3a-4c5b-8e7f-9a0b1c2d3e4f',
    endpointId: 'ep_Xk3v9QpL2mNb7RtY',
    type: 'challenge.failed',
    occurredAt: '2026-12-09T10:00:00.000Z',
    data: {
      userId: '0b6c4c8e-7d4a-4f4f-9a55-2f2a5d1f3c11',
      challengeId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      channel: 'sms',
      purpose: 'login',
      toMasked: '+*******2671',
      errorCode: 'twilio_21211',
      sessionIds: ['7d1f3c2a-5b6e-4f70-8a91-b2c3d4e5f607'],
      attempts: 3,
      first: true,
    },
  };

  it('shows every field of a job as the relay makes it: ids, reasons, counters, masked addresses', () => {
    expect(publicWebhookJobData(job)).toEqual(job);
    const email = { ...job, type: 'email.changed', data: { userId: job.data.userId, emailMasked: 'a***@example.com' } };
    expect(publicWebhookJobData(email)).toEqual(email);
  });

  it('hides a value of the event data that is no id, name or masked address, and names fields it does not know', () => {
    const leaky = {
      ...job,
      data: {
        ...job.data,
        toMasked: '+14155552671',
        email: 'ada@example.com',
        code: '042917',
        device: { ip: '1.2.3.4' },
      },
      secret: 'whsec_abc',
      url: 'https://hooks.example.com/otp?token=abc',
    };
    expect(publicWebhookJobData(leaky)).toEqual({
      ...job,
      data: { ...job.data, toMasked: HIDDEN, email: HIDDEN, code: HIDDEN, device: HIDDEN },
      hiddenFields: ['secret', 'url'],
    });
    expect(publicWebhookJobData('not a job')).toBe(HIDDEN);
  });

  it("shows a delivered job's HTTP status, and hides any other return value", () => {
    expect(publicWebhookReturnValue({ status: 204 })).toEqual({ status: 204 });
    expect(publicWebhookReturnValue(undefined)).toBeUndefined();
    expect(publicWebhookReturnValue({ status: 200, body: 'ok ada@example.com' })).toBe(HIDDEN);
    expect(publicWebhookReturnValue('ada@example.com')).toBe(HIDDEN);
  });
});
