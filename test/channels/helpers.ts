/** Shared by the channel tests: the DeliveryError a send rejects with. */
import assert from 'node:assert/strict';
import { DeliveryError } from '../../src/channels/types.js';

export async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to fail');
}
