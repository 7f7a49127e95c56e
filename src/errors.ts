/**
 * The errors users see. Each carries one line saying what is wrong and how to fix it.
 * `src/cli.ts` maps them to exit codes: UsageError -> 2, every other -> 1.
 */
/** Marks notify's errors, whichever copy of this module made them. */
const BRAND = Symbol.for('notify.error');

export class NotifyError extends Error {
  exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /**
   * `err instanceof NotifyError` holds for errors from any copy of this module: the CLI's bundled
   * entry (scripts/bundle-cli.js) carries its own, and commands throw from the compiled file.
   * Subclasses keep the ordinary check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== NotifyError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && BRAND in value;
  }
}
Object.defineProperty(NotifyError.prototype, BRAND, { value: true });

/** The command line itself is wrong: unknown flag, missing argument, conflicting options. Exit 2. */
export class UsageError extends NotifyError {
  override exitCode = 2;
}

/** A named thing (user, template, segment, device, campaign) does not exist. */
export class NotFoundError extends NotifyError {}

/** A value or file is malformed. `where` names the line and/or field when known. */
export class InputError extends NotifyError {
  constructor(message: string, readonly where?: { line?: number; field?: string }) {
    super(where ? `${formatWhere(where)}: ${message}` : message);
  }
}

/** The home, config file or database cannot be used as it is. */
export class ConfigError extends NotifyError {}

function formatWhere(where: { line?: number; field?: string }): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.field !== undefined) parts.push(`field "${where.field}"`);
  return parts.join(', ');
}
