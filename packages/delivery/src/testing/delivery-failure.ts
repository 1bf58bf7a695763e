import { DeliveryError } from '../delivery.error.ts';

/** The DeliveryError a send rejects with; anything else (or no rejection) fails the test. */
export async function deliveryFailure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DeliveryError)) throw new Error('expected a DeliveryError');
  return error;
}
