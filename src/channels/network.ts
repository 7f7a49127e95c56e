/**
 * Transport failures every HTTP or SMTP adapter shares: the error codes that mean "no answer arrived"
 * (retry later) and the ones that mean "the certificate did not check out" (retry later, but an
 * operator must fix trust or the endpoint). Provider answers are classified by each adapter's own table;
 * this module is only about failures below the provider's protocol.
 */
import { DeliveryError } from './types.js';

/** Socket and DNS failures from Node, undici and the usual client libraries: the request got no answer. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EHOSTDOWN', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_ERROR',
]);

/** OpenSSL and Node TLS codes: the server's certificate is not trusted, expired or for another name. */
const TLS_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|HOSTNAME_MISMATCH)/;

export function isTlsErrorCode(code: string | undefined): boolean {
  return code !== undefined && TLS_CODE.test(code);
}

/**
 * The first transport code found on the error or its causes (`cause`, verror's `jse_cause`), or
 * undefined when none is a network or TLS code.
 */
export function networkErrorCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 10 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || TLS_CODE.test(code))) return code;
    cur = (cur as { cause?: unknown; jse_cause?: unknown }).jse_cause ?? (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the error (or a cause) is a socket, DNS or TLS failure, i.e. no provider answer. */
export function isNetworkError(err: unknown): boolean {
  return networkErrorCode(err) !== undefined;
}

/**
 * A retryable DeliveryError for a transport failure, or undefined when `err` is not one.
 * TLS failures also carry action 'alert': they do not heal by themselves.
 *
 * @param provider names the provider in the message, e.g. "Twilio"
 * @param trustHint what to check on a TLS failure, e.g. "check channels.sms.endpoint and trusted CAs"
 */
export function networkDeliveryError(err: unknown, provider: string, trustHint = 'check the endpoint and trusted CAs'): DeliveryError | undefined {
  const code = networkErrorCode(err);
  if (code === undefined) return undefined;
  const message = (err as { message?: string })?.message ?? String(err);
  if (TLS_CODE.test(code)) return new DeliveryError('retryable', code, `${provider} TLS failure: ${message} (${trustHint})`, { action: 'alert' });
  return new DeliveryError('retryable', code, `${provider} network error: ${message}`);
}

/**
 * Rejects with a retryable DeliveryError ('ABORTED') when `signal` aborts before `work` settles; the
 * work itself may still finish, but the daemon no longer waits for it.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, provider: string): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeliveryError('retryable', 'ABORTED', `the ${provider} send was aborted before an answer arrived`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
