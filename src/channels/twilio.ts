/**
 * SMS through Twilio's Programmable Messaging API with the official SDK. The SDK's transport is replaced by
 * a small `httpClient` that keeps connections alive on one https.Agent, honours `channels.sms.endpoint`
 * (staging gateways, egress proxies, the test emulator) and aborts with the send's signal.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import twilio from 'twilio';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { networkDeliveryError, parseRetryAfter } from './network.js';
import { DeliveryError, type AdapterContext, type ChannelAdapter, type OutboundMessage, type SendResult } from './types.js';

type SmsConfig = Config['channels']['sms'];

/** Twilio codes meaning the number itself can never receive: invalid, not mobile, unreachable, landline. */
const DEAD_NUMBER_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21408, 21612, 21614]);
/** Twilio codes meaning our account or sender is misconfigured: an operator must act. */
const CONFIG_CODES = new Set([20003, 20005, 20404, 21212, 21603, 21606, 21608, 21659, 21704, 21705]);

/**
 * Twilio's error table. `status` is the HTTP status (0 when no response arrived), `code` Twilio's error code
 * from the body (https://www.twilio.com/docs/api/errors).
 */
export function classifyTwilioError(
  status: number,
  code: number | undefined,
  message = 'Twilio error',
  headers: Record<string, string | string[] | undefined> = {},
): DeliveryError {
  const id = String(code ?? status);
  const text = `Twilio ${status}${code !== undefined ? ` ${code}` : ''}: ${message}`;
  if (code === 21610) return new DeliveryError('permanent', id, text, { status, action: 'opt-out' });
  if (code !== undefined && DEAD_NUMBER_CODES.has(code)) return new DeliveryError('invalid-address', id, text, { status });
  if (status === 401 || (code !== undefined && CONFIG_CODES.has(code))) return new DeliveryError('permanent', id, text, { status, action: 'alert' });
  if (status === 429 || code === 20429 || code === 14107) {
    return new DeliveryError('rate-limited', id, text, { status, retryAfterMs: parseRetryAfter(headers['retry-after']) });
  }
  if (status >= 500 || status === 0) return new DeliveryError('retryable', id, text, { status, retryAfterMs: parseRetryAfter(headers['retry-after']) });
  return new DeliveryError('permanent', id, text, { status });
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now. */

function requireKey(config: SmsConfig, key: 'accountSid' | 'authToken', example: string): string {
  const value = config[key];
  if (!value) throw new ConfigError(`channels.sms.${key} is not set: run "notify config set channels.sms.${key} ${example}"`);
  return value;
}

interface CallState {
  signal?: AbortSignal;
  headers?: IncomingHttpHeaders;
}

/** What twilio's RequestClient.request receives (the subset we use). */
interface TwilioRequestOptions {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
  timeout?: number;
}

function formEncode(data: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, String(v));
  }
  return form.toString();
}

export async function createTwilioAdapter(config: SmsConfig, _ctx: AdapterContext): Promise<ChannelAdapter> {
  const accountSid = requireKey(config, 'accountSid', 'AC0123456789abcdef0123456789abcdef');
  const authToken = requireKey(config, 'authToken', '<auth token from the Twilio console>');
  if (!config.from && !config.messagingServiceSid) {
    throw new ConfigError('channels.sms.from is not set: run "notify config set channels.sms.from +14155550100" (or set channels.sms.messagingServiceSid MG...)');
  }
  const base = config.endpoint ? new URL(config.endpoint) : undefined;
  if (base && base.protocol !== 'https:') throw new ConfigError(`channels.sms.endpoint must be an https:// URL, not ${config.endpoint}`);
  const prefix = base ? base.pathname.replace(/\/+$/, '') : '';
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
  const calls = new AsyncLocalStorage<CallState>();

  // Implements the SDK's RequestClient contract: resolve {statusCode, body, headers} for every HTTP status,
  // reject only when no response arrived.
  const httpClient = {
    request(opts: TwilioRequestOptions): Promise<{ statusCode: number; body: string; headers: IncomingHttpHeaders }> {
      const state = calls.getStore();
      let url = new URL(opts.uri);
      if (base) url = new URL(`${base.origin}${prefix}${url.pathname}${url.search}`);
      if (opts.params && Object.keys(opts.params).length > 0) {
        url.search = formEncode({ ...Object.fromEntries(url.searchParams), ...opts.params });
      }
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.username && opts.password) {
        headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
      }
      const payload = opts.data ? formEncode(opts.data) : undefined;
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      return new Promise((resolve, reject) => {
        const req = httpsRequest(url, { method: opts.method.toUpperCase(), headers, agent, signal: state?.signal }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (state) state.headers = res.headers;
            resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
          });
        });
        req.setTimeout(opts.timeout ?? 30_000, () => req.destroy(Object.assign(new Error('Twilio request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        req.end(payload);
      });
    },
  };

  let client: twilio.Twilio;
  try {
    client = twilio(accountSid, authToken, { httpClient: httpClient as unknown as twilio.RequestClient });
  } catch (err) {
    throw new ConfigError(`channels.sms.accountSid: ${(err as Error).message}: run "notify config set channels.sms.accountSid AC..."`);
  }
  let closed = false;

  function toDeliveryError(err: unknown, state: CallState): DeliveryError {
    if (err instanceof DeliveryError) return err;
    const e = err as { status?: unknown; code?: unknown; message?: string; name?: string };
    if (typeof e.status === 'number') {
      return classifyTwilioError(e.status, typeof e.code === 'number' ? e.code : undefined, e.message, state.headers);
    }
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (e.name === 'AbortError' || code === 'ABORT_ERR') return new DeliveryError('retryable', 'ABORTED', 'Twilio request aborted');
    const network = networkDeliveryError(err, 'Twilio', 'check channels.sms.endpoint and trusted CAs');
    if (network) return network;
    // The SDK's own argument checks (e.g. a missing parameter) reject the message, not the transport.
    return new DeliveryError('permanent', code ?? 'TWILIO_CLIENT', `Twilio request failed: ${e.message ?? String(err)}`);
  }

  return {
    name: 'twilio',
    async send(message: OutboundMessage, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
      if (message.channel !== 'sms') throw new DeliveryError('permanent', 'WRONG_CHANNEL', `the twilio adapter cannot send ${message.channel} messages`);
      if (closed) throw new DeliveryError('retryable', 'CLOSED', 'the twilio adapter is closed');
      if (options.signal?.aborted) throw new DeliveryError('retryable', 'ABORTED', 'Twilio request aborted');
      const state: CallState = { signal: options.signal };
      try {
        const sent = await calls.run(state, () => client.messages.create({
          to: message.to,
          body: message.content.body,
          ...(config.from ? { from: config.from } : {}),
          ...(config.messagingServiceSid ? { messagingServiceSid: config.messagingServiceSid } : {}),
          ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
        }));
        return { providerId: sent.sid };
      } catch (err) {
        throw toDeliveryError(err, state);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      agent.destroy();
    },
  };
}
