/** Shared by the channel tests: the DeliveryError a send rejects with, the ConfigError a setup rejects with. */
import assert from 'node:assert/strict';
import { DeliveryError } from '../../src/channels/types.js';
import { ConfigError } from '../../src/errors.js';

export async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to fail');
}

/** Asserts that creating an adapter fails with a ConfigError whose message matches. */
export async function rejectsConfig(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, message);
    return true;
  });
}
