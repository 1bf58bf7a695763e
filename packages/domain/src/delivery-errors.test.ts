import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ERROR_CODES,
  DELIVERY_OUTCOME_KINDS,
  deliveryErrorEntry,
  twilioErrorCode,
} from './delivery-errors.ts';

describe('the delivery error codes', () => {
  it('classifies every code, the families by their pattern', () => {
    expect(deliveryErrorEntry('smtp_rejected')).toMatchObject({ kind: 'permanent' });
    expect(deliveryErrorEntry('smtp_451')).toMatchObject({ kind: 'temporary' });
    expect(deliveryErrorEntry('smtp_550')).toMatchObject({ kind: 'permanent' });
    expect(deliveryErrorEntry('twilio_21211')).toMatchObject({ kind: 'permanent' });
    expect(deliveryErrorEntry('twilio_429')).toMatchObject({ kind: 'rate_limited' });
    expect(deliveryErrorEntry('twilio_20003')).toMatchObject({ kind: 'provider_auth' });
    expect(deliveryErrorEntry('already_sent')).toMatchObject({ kind: 'skipped' });
    expect(deliveryErrorEntry('toString')).toBeUndefined();
    expect(deliveryErrorEntry('smtp_55')).toBeUndefined();
    expect(twilioErrorCode(30003)).toBe('twilio_30003');
  });

  it('uses only the known kinds, and every kind', () => {
    const kinds = new Set(Object.values(DELIVERY_ERROR_CODES).map((entry) => entry.kind));
    expect([...kinds].sort()).toEqual([...DELIVERY_OUTCOME_KINDS].sort());
  });
});
