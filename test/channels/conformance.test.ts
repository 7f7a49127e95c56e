/**
 * The adapter conformance suite: every channel adapter, driven through its real SDK against its
 * loopback emulator, must pass the same tests. A new adapter joins by adding one row to ADAPTERS.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { createApnsAdapter } from '../../src/channels/apns.js';
import { createFcmAdapter } from '../../src/channels/fcm.js';
import { createSmtpAdapter } from '../../src/channels/smtp.js';
import { createTwilioAdapter } from '../../src/channels/twilio.js';
import { createWebPushAdapter, topicFor } from '../../src/channels/webpush.js';
import {
  DeliveryError, type AdapterContext, type ChannelAdapter, type DeliveryErrorKind, type EmailMessage, type OutboundMessage,
  type PushMessage, type SmsMessage,
} from '../../src/channels/types.js';
import { startApnsEmulator } from '../emulators/apns.js';
import { startFcmEmulator } from '../emulators/fcm.js';
import { smtpErrors, startSmtpEmulator, type SmtpErrorSpec } from '../emulators/smtp.js';
import { startTwilioEmulator, twilioErrors } from '../emulators/twilio.js';
import { startWebPushEmulator, webPushErrors } from '../emulators/webpush.js';
import { fromApns, fromFcm, fromSmtp, fromTwilio, fromWebPush, webPushPart } from '../emulators/rendered.js';
import { rejection } from './helpers.js';

type T = { after(fn: () => unknown): void };

/** One adapter under test, with its emulator behind it. */
interface Subject {
  adapter: ChannelAdapter;
  /** A fresh message to a fresh address (token, subscription, number or mailbox). */
  makeMessage(): OutboundMessage;
  /** The next send to `to` gets the provider's own answer for this kind. */
  scriptFailure(kind: DeliveryErrorKind, to: string): void;
  /** Asserts the emulator received exactly what `message` carried, under `providerId`. */
  assertReceived(message: OutboundMessage, providerId: string): void;
  /** Messages the emulator accepted. */
  accepted(): number;
  /** Stops the emulator (the adapter stays open). */
  stopEmulator(): Promise<void>;
}

interface Row {
  name: string;
  /** The DeliveryError kinds this provider's answers can produce. */
  kinds: DeliveryErrorKind[];
  /** The provider's rate-limit answer carries Retry-After (APNs sends none). */
  retryAfter: boolean;
  start(t: T): Promise<Subject>;
}

const ctx: AdapterContext = { home: '/nonexistent', warn: () => undefined };
let seq = 0;

function base(to: string) {
  seq++;
  return {
    deliveryId: 1000 + seq, notificationId: `ntf_conf_${seq}`, userId: `u${seq}`, attempt: 1, category: 'transactional',
    priority: 'high' as const, to,
  };
}

function pushContent(): PushMessage['content'] {
  return {
    title: `Hello ${seq}`, body: 'Your order shipped 📦', data: { order: `A-${seq}`, kind: 'shipping' },
    url: `https://app.example.com/o/${seq}`, sound: 'default', badge: 3, collapseKey: `order-${seq}`,
  };
}

/** Closes both ends when the test ends (the adapter first, then its emulator). */
function track<E extends { close(): Promise<void> }>(t: T, emu: E, adapter: ChannelAdapter): void {
  t.after(async () => {
    await adapter.close();
    await emu.close();
  });
}

const ADAPTERS: Row[] = [
  {
    name: 'apns',
    kinds: ['retryable', 'rate-limited', 'invalid-address', 'permanent'],
    retryAfter: false,
    async start(t) {
      const emu = await startApnsEmulator();
      const adapter = await createApnsAdapter({
        provider: 'apns', keyFile: emu.keyPath, keyId: emu.keyId, teamId: emu.teamId, topic: emu.topic, production: false, endpoint: emu.url,
      }, ctx);
      track(t, emu, adapter);
      return {
        adapter,
        makeMessage: (to = randomBytes(32).toString('hex')): PushMessage => ({ ...base(to), channel: 'push', provider: 'apns', content: pushContent() }),
        scriptFailure(kind, to) {
          emu.fail(to, [({ retryable: 'ServiceUnavailable', 'rate-limited': 'TooManyRequests', 'invalid-address': 'Unregistered', permanent: 'PayloadTooLarge' } as const)[kind]]);
        },
        assertReceived(message, providerId) {
          const m = message as PushMessage;
          const got = emu.received.filter((r) => r.token === m.to);
          assert.equal(got.length, 1);
          assert.equal(got[0]!.apnsId, providerId);
          assert.deepEqual(fromApns(got[0]!), { content: m.content, nid: m.notificationId, did: m.deliveryId });
          assert.equal(got[0]!.headers['apns-priority'], '10');
        },
        accepted: () => emu.accepted,
        stopEmulator: () => emu.close(),
      };
    },
  },
  {
    name: 'fcm',
    kinds: ['retryable', 'rate-limited', 'invalid-address', 'permanent'],
    retryAfter: true,
    async start(t) {
      const emu = await startFcmEmulator();
      const adapter = await createFcmAdapter({ provider: 'fcm', serviceAccountFile: emu.serviceAccountPath, endpoint: emu.url }, ctx);
      track(t, emu, adapter);
      return {
        adapter,
        makeMessage: (to = `fcm-${randomBytes(12).toString('hex')}`): PushMessage => ({ ...base(to), channel: 'push', provider: 'fcm', content: pushContent() }),
        scriptFailure(kind, to) {
          emu.fail(to, [({ retryable: 'UNAVAILABLE', 'rate-limited': 'QUOTA_EXCEEDED', 'invalid-address': 'UNREGISTERED', permanent: 'INVALID_ARGUMENT' } as const)[kind]]);
        },
        assertReceived(message, providerId) {
          const m = message as PushMessage;
          const got = emu.received.filter((r) => r.token === m.to);
          assert.equal(got.length, 1);
          assert.equal(got[0]!.name, providerId);
          assert.deepEqual(fromFcm(got[0]!), { content: m.content, nid: m.notificationId, did: m.deliveryId });
          assert.equal(got[0]!.message.android.priority, 'high');
        },
        accepted: () => emu.accepted,
        stopEmulator: () => emu.close(),
      };
    },
  },
  {
    name: 'webpush',
    kinds: ['retryable', 'rate-limited', 'invalid-address', 'permanent'],
    retryAfter: true,
    async start(t) {
      const keys = webpush.generateVAPIDKeys();
      const emu = await startWebPushEmulator({ applicationServerKey: keys.publicKey });
      const adapter = await createWebPushAdapter({
        provider: 'webpush', vapidPublicKey: keys.publicKey, vapidPrivateKey: keys.privateKey, subject: 'mailto:ops@example.com',
      }, ctx);
      track(t, emu, adapter);
      return {
        adapter,
        // A web push address is a whole subscription (endpoint and keys): every message gets a fresh one.
        makeMessage() {
          const subscription = emu.createSubscription();
          return { ...base(subscription.endpoint), channel: 'push', provider: 'webpush', subscription, content: pushContent() };
        },
        scriptFailure(kind, to) {
          emu.fail(to, [{ retryable: webPushErrors.internal(), 'rate-limited': webPushErrors.tooManyRequests(7), 'invalid-address': webPushErrors.gone(), permanent: webPushErrors.tooLarge() }[kind]]);
        },
        assertReceived(message, providerId) {
          const m = message as PushMessage;
          const got = emu.received.filter((r) => r.endpoint === m.to);
          assert.equal(got.length, 1);
          assert.match(providerId, new RegExp(`^${emu.url}/m/`));
          assert.deepEqual(fromWebPush(got[0]!), { content: webPushPart(m.content), nid: m.notificationId, did: m.deliveryId, topic: topicFor(m.content.collapseKey) });
          assert.equal(got[0]!.urgency, 'high');
        },
        accepted: () => emu.received.length,
        stopEmulator: () => emu.close(),
      };
    },
  },
  {
    name: 'twilio',
    kinds: ['retryable', 'rate-limited', 'invalid-address', 'permanent'],
    retryAfter: true,
    async start(t) {
      const emu = await startTwilioEmulator();
      const adapter = await createTwilioAdapter({
        provider: 'twilio', accountSid: emu.accountSid, authToken: emu.authToken, from: '+15005550006', endpoint: emu.url,
      }, ctx);
      track(t, emu, adapter);
      let n = 0;
      return {
        adapter,
        makeMessage: (to = `+1415555${String(1000 + (n++ % 9000)).padStart(4, '0')}`): SmsMessage => ({
          ...base(to), channel: 'sms', provider: 'sms', content: { body: `Your code is ${seq} — 안녕` },
        }),
        scriptFailure(kind, to) {
          emu.fail(to, [{ retryable: twilioErrors.internal(), 'rate-limited': twilioErrors.tooManyRequests(3), 'invalid-address': twilioErrors.invalidTo(to), permanent: twilioErrors.unsubscribed() }[kind]]);
        },
        assertReceived(message, providerId) {
          const m = message as SmsMessage;
          const got = emu.received.filter((r) => r.sid === providerId);
          assert.equal(got.length, 1);
          assert.equal(got[0]!.to, m.to);
          assert.equal(got[0]!.from, '+15005550006');
          assert.deepEqual(fromTwilio(got[0]!), m.content);
        },
        accepted: () => emu.received.length,
        stopEmulator: () => emu.close(),
      };
    },
  },
  {
    name: 'smtp',
    // SMTP has no rate-limit answer of its own: a "slow down" is a 4xx, which is retryable.
    kinds: ['retryable', 'invalid-address', 'permanent'],
    retryAfter: false,
    async start(t) {
      const emu = await startSmtpEmulator();
      const adapter = await createSmtpAdapter({ provider: 'smtp', smtpUrl: emu.smtpUrl, from: 'Acme <notify@acme.example>' }, ctx);
      track(t, emu, adapter);
      return {
        adapter,
        makeMessage: (to = `r${randomBytes(6).toString('hex')}@example.com`): EmailMessage => ({
          ...base(to), channel: 'email', provider: 'email',
          content: { subject: `Receipt ${seq} — 영수증`, text: `Thanks for order ${seq}.`, html: `<p>Thanks for order <b>${seq}</b>.</p>` },
          headers: { 'List-Unsubscribe': `<https://notify.example.com/u/${seq}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        }),
        scriptFailure(kind, to) {
          const answers: Partial<Record<DeliveryErrorKind, SmtpErrorSpec>> = {
            retryable: smtpErrors.greylisted(to), 'invalid-address': smtpErrors.userUnknown(to), permanent: smtpErrors.spam(),
          };
          emu.fail(to, [answers[kind]!]);
        },
        assertReceived(message, providerId) {
          const m = message as EmailMessage;
          const got = emu.received.filter((r) => r.envelope.to.includes(m.to));
          assert.equal(got.length, 1);
          assert.equal(got[0]!.queueId, providerId);
          assert.deepEqual(fromSmtp(got[0]!), m.content);
          assert.equal(got[0]!.headers['list-unsubscribe'], m.headers!['List-Unsubscribe']);
          assert.equal(got[0]!.headers['list-unsubscribe-post'], m.headers!['List-Unsubscribe-Post']);
        },
        accepted: () => emu.received.length,
        stopEmulator: () => emu.close(),
      };
    },
  },
];


for (const row of ADAPTERS) {
  describe(`${row.name} adapter conformance`, () => {
    test('a send resolves with a non-empty provider id and the provider receives exactly what was rendered', async (t) => {
      const s = await row.start(t);
      const message = s.makeMessage();
      const { providerId } = await s.adapter.send(message, {});
      assert.equal(typeof providerId, 'string');
      assert.notEqual(providerId, '');
      s.assertReceived(message, providerId);
    });

    for (const kind of row.kinds) {
      test(`the provider's ${kind} answer surfaces as a DeliveryError of kind ${kind}, and the next send succeeds`, async (t) => {
        const s = await row.start(t);
        const message = s.makeMessage();
        s.scriptFailure(kind, message.to);
        const err = await rejection(s.adapter.send(message, {}));
        assert.equal(err.kind, kind, `${err.code}: ${err.message}`);
        assert.notEqual(err.code, '');
        if (kind === 'rate-limited' && row.retryAfter) assert.ok((err.retryAfterMs ?? 0) > 0, 'a rate limit carries the provider\'s Retry-After');
        assert.equal(s.accepted(), 0);
        const retry = await s.adapter.send({ ...message, attempt: 2 }, {});
        s.assertReceived(message, retry.providerId);
      });
    }

    test('a refused connection (the provider is down) is retryable', async (t) => {
      const s = await row.start(t);
      await s.adapter.send(s.makeMessage(), {});
      const message = s.makeMessage();
      await s.stopEmulator();
      const err = await rejection(s.adapter.send(message, {}));
      assert.equal(err.kind, 'retryable', `${err.code}: ${err.message}`);
    });

    test('an aborted signal fails the send as retryable without sending', async (t) => {
      const s = await row.start(t);
      const err = await rejection(s.adapter.send(s.makeMessage(), { signal: AbortSignal.abort() }));
      assert.equal(err.kind, 'retryable');
      assert.equal(s.accepted(), 0);
    });

    test('close() is safe to call twice, and a send after close is retryable', async (t) => {
      const s = await row.start(t);
      await s.adapter.send(s.makeMessage(), {});
      await Promise.all([s.adapter.close(), s.adapter.close()]);
      await s.adapter.close();
      const err = await rejection(s.adapter.send(s.makeMessage(), {}));
      assert.equal(err.kind, 'retryable');
      assert.equal(s.accepted(), 1);
    });

    test('50 concurrent sends all succeed with distinct provider ids', async (t) => {
      const s = await row.start(t);
      const messages = Array.from({ length: 50 }, () => s.makeMessage());
      const results = await Promise.all(messages.map((m) => s.adapter.send(m, {})));
      assert.equal(new Set(results.map((r) => r.providerId)).size, 50);
      assert.equal(s.accepted(), 50);
      messages.forEach((m, i) => s.assertReceived(m, results[i]!.providerId));
    });
  });
}
