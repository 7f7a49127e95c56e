/**
 * The API's one error shape, `{ "error": { "code", "message", "field"? } }`, and how every failure maps
 * to it: schema violations and InputErrors are 400 with the field path; a thing named in the URL that
 * does not exist is 404; a thing named in the body that does not exist is 422; fastify's own body
 * errors keep their status (413 too large, 415 not JSON, 400 malformed JSON).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError, InputError, NotFoundError } from '../../errors.js';
import type { Logger } from '../logger.js';

export type ErrorCode =
  | 'invalid' | 'invalid_json' | 'not_found' | 'unknown_reference' | 'unauthorized' | 'revoked' | 'forbidden'
  | 'rate_limited' | 'too_large' | 'unsupported_media_type' | 'unavailable' | 'internal' | 'bad_request';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** An error with its HTTP status, thrown by routes and hooks. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string, readonly field?: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

/** The reason of an InputError without its `field "x": ` prefix. */
function reasonOf(err: InputError): string {
  const field = err.where?.field;
  const prefix = field !== undefined ? `field "${field}": ` : '';
  return prefix && err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

/**
 * An InputError as a 400. `fieldPrefix` places the error's field inside a bigger body (`preferences[2]`),
 * and `rename` maps internal field names to the API's (`id` -> `user_id`).
 */
export function fromInputError(err: InputError, fieldPrefix = '', rename: Record<string, string> = {}): ApiError {
  const inner = err.where?.field;
  const named = inner !== undefined ? (rename[inner] ?? inner) : undefined;
  const field = named !== undefined ? (fieldPrefix ? `${fieldPrefix}.${named}` : named) : (fieldPrefix || undefined);
  return new ApiError(400, 'invalid', reasonOf(err), field);
}

/** A NotFoundError about something named in the request body: 422 with that field. */
export function unknownReference(err: NotFoundError, field: string): ApiError {
  return new ApiError(422, 'unknown_reference', err.message, field);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/user_ids/0` -> `user_ids[0]`; `/data/a b` -> `data.a b`. */
export function jsonPointerToField(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

/** The first schema violation as one line with its field path. */
export function fromValidation(errors: AjvError[], context: string): ApiError {
  const e = errors[0]!;
  const at = jsonPointerToField(e.instancePath);
  const where = context === 'body' ? '' : context;
  let field = at;
  let message: string;
  switch (e.keyword) {
    case 'required':
      field = join(at, String(e.params.missingProperty));
      message = 'is required';
      break;
    case 'additionalProperties':
      field = join(at, String(e.params.additionalProperty));
      message = 'is not a known field: remove it (see the API reference in the route file)';
      break;
    case 'enum':
      message = `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
      break;
    case 'type':
      message = `must be ${String(e.params.type).replace(/,/g, ' or ')}`;
      break;
    case 'format':
      message = e.params.format === 'date-time' ? 'must be an ISO 8601 date-time with a zone, such as 2026-01-01T09:00:00Z' : `must be a valid ${String(e.params.format)}`;
      break;
    case 'uniqueItems':
      message = 'must not repeat an item';
      break;
    default:
      message = e.message ?? 'is not valid';
  }
  if (where) field = field ? `${where}.${field}` : where;
  return new ApiError(400, 'invalid', field ? `${field}: ${message}` : message, field || undefined);
}

/** Maps anything a request can throw to the error shape, and logs what is not the client's fault. */
export function errorHandler(logger: Logger, bodyLimit: number) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    const api = toApiError(error, bodyLimit);
    if (api.status >= 500) {
      logger.error({ err: (error as Error).message, method: request.method, route: request.routeOptions.url ?? null }, 'API request failed');
    }
    void reply.code(api.status).headers(api.headers).send(api.body());
  };
}

function toApiError(error: FastifyError | Error, bodyLimit: number): ApiError {
  if (error instanceof ApiError) return error;
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) return fromValidation(fe.validation, fe.validationContext ?? 'body');
  if (error instanceof InputError) return fromInputError(error);
  if (error instanceof NotFoundError) return new ApiError(404, 'not_found', error.message);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'too_large', `the body is larger than ${bodyLimit} bytes: send less (the limit is the daemon's server.bodyLimit)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'the body must be JSON: send it with Content-Type: application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_json', 'the body is not valid JSON: send one JSON object');
  }
  const sqlite = (error as { code?: string }).code ?? '';
  if (sqlite === 'SQLITE_BUSY' || sqlite === 'SQLITE_LOCKED' || error instanceof ConfigError) {
    return new ApiError(503, 'unavailable', 'the database is busy: retry shortly', undefined, { 'retry-after': '1' });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, 'bad_request', fe.message);
  }
  return new ApiError(500, 'internal', 'internal error: see the daemon log');
}
