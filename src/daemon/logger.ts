/** The daemon logs JSON lines (pino) to stdout, for journald and log shippers. Secrets are never logged. */
import pino from 'pino';

export type Logger = Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug' | 'isLevelEnabled'>;

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino({ level: options.level ?? 'info', base: { pid: process.pid } }, (options.destination as pino.DestinationStream | undefined) ?? pino.destination(1));
}

/** A logger that drops everything (tests, one-off commands). */
export const silentLogger: Logger = pino({ level: 'silent' });
