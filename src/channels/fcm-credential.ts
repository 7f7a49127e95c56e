/**
 * A firebase-admin Credential that does the service-account OAuth grant itself (RFC 7523 JWT bearer,
 * RS256 with the account's key) against the `token_uri` the service account file names.
 * google-auth-library always asks Google's own token URL; this one goes where the file says, which is
 * what staging gateways, egress proxies and the loopback emulator need.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Google's token URL, for service account files that name none. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** A token is renewed this long before it expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 15_000;
/** A refusal (bad key, revoked account) is answered from memory this long, so a burst does not hammer the endpoint. */
const REFUSAL_MEMORY_MS = 30_000;

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId?: string;
  tokenUri: string;
}

/** Why the token endpoint refused or could not be reached. `transient` failures are worth retrying. */
export class TokenError extends Error {
  constructor(message: string, readonly transient: boolean, readonly status?: number, readonly oauthError?: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Parses a service account JSON file's text; throws Error naming the missing or bad field. */
export function parseServiceAccount(text: string): ServiceAccount {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (!raw || typeof raw !== 'object') throw new Error('not a JSON object');
  if (raw.type !== 'service_account') throw new Error(`"type" is ${JSON.stringify(raw.type)}, not "service_account"`);
  for (const field of ['project_id', 'client_email', 'private_key']) {
    if (typeof raw[field] !== 'string' || raw[field] === '') throw new Error(`"${field}" is missing`);
  }
  const tokenUri = typeof raw.token_uri === 'string' && raw.token_uri !== '' ? raw.token_uri : GOOGLE_TOKEN_URI;
  const protocol = new URL(tokenUri).protocol;
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`"token_uri" ${tokenUri} is not an http(s) URL`);
  return {
    projectId: raw.project_id as string,
    clientEmail: raw.client_email as string,
    privateKey: createPrivateKey(raw.private_key as string),
    privateKeyId: typeof raw.private_key_id === 'string' ? raw.private_key_id : undefined,
    tokenUri,
  };
}

/** Implements firebase-admin's `Credential` (`getAccessToken()` → `{ access_token, expires_in }`). */
export class ServiceAccountCredential {
  /** Tokens obtained from the token endpoint so far. */
  fetches = 0;
  private cached: { token: string; expiresAt: number } | undefined;
  private inflight: Promise<{ token: string; expiresAt: number }> | undefined;
  private refused: { error: TokenError; until: number } | undefined;

  constructor(private account: ServiceAccount, private scope = FCM_SCOPE) {}

  async getAccessToken(): Promise<{ access_token: string; expires_in: number }> {
    const now = Date.now();
    let entry = this.cached;
    if (!entry || entry.expiresAt - now <= REFRESH_MARGIN_MS) {
      if (this.refused && this.refused.until > now) throw this.refused.error;
      // One request at a time: a burst of sends at startup shares the first answer.
      this.inflight ??= this.fetchToken()
        .catch((err: unknown) => {
          if (err instanceof TokenError && !err.transient) this.refused = { error: err, until: Date.now() + REFUSAL_MEMORY_MS };
          throw err;
        })
        .finally(() => { this.inflight = undefined; });
      entry = await this.inflight;
      this.cached = entry;
    }
    return { access_token: entry.token, expires_in: Math.max(0, Math.floor((entry.expiresAt - Date.now()) / 1000)) };
  }

  /** The signed JWT-bearer assertion. */
  assertion(nowMs = Date.now()): string {
    const iat = Math.floor(nowMs / 1000);
    const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
    if (this.account.privateKeyId) header.kid = this.account.privateKeyId;
    const claims = { iss: this.account.clientEmail, scope: this.scope, aud: this.account.tokenUri, iat, exp: iat + 3600 };
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.account.privateKey).toString('base64url')}`;
  }

  private async fetchToken(): Promise<{ token: string; expiresAt: number }> {
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: this.assertion() }).toString();
    const started = Date.now();
    const { status, text } = await postForm(this.account.tokenUri, body);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Reported below with the status.
    }
    if (status !== 200 || typeof json.access_token !== 'string') {
      const error = typeof json.error === 'string' ? json.error : undefined;
      const detail = [error, typeof json.error_description === 'string' ? json.error_description : undefined].filter(Boolean).join(': ');
      throw new TokenError(
        `token endpoint ${this.account.tokenUri} answered ${status}${detail ? ` (${detail})` : ''}`,
        status >= 500 || status === 429,
        status,
        error,
      );
    }
    this.fetches++;
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : 3600;
    return { token: json.access_token, expiresAt: started + expiresIn * 1000 };
  }
}

function postForm(uri: string, body: string): Promise<{ status: number; text: string }> {
  const url = new URL(uri);
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    // A fresh connection: this happens about once an hour, and nothing is left open afterwards.
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), connection: 'close' },
      timeout: TOKEN_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new TokenError(`token endpoint ${uri}: ${err.message}`, true)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${TOKEN_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: Error & { code?: string }) => {
      reject(new TokenError(`token endpoint ${uri}: ${err.code ?? err.message}`, true, undefined, err.code));
    });
    req.end(body);
  });
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
