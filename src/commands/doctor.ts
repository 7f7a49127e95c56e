/**
 * `notify doctor`: is this home ready to send? Checks the config, the database, each channel's
 * credentials and whether each configured provider answers — without sending anything.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import type { Config } from '../config.js';
import { NotifyError } from '../errors.js';
import { PROVIDERS, type ProviderKey } from '../core/types.js';
import type { CheckContext, CheckResult } from '../channels/check.js';
import { positiveInt } from './shared.js';
import { describe } from './catalog.js';

export interface DoctorOptions {
  /** Skip the network checks (credentials are still read and parsed). */
  offline?: boolean;
  /** Longest wait for each network check, in ms. Default 10000. */
  timeoutMs?: number;
  json?: boolean;
}

export interface DoctorReport {
  home: string;
  /** No check failed (warnings allowed). */
  ok: boolean;
  checks: CheckResult[];
}

/** Exit 1 after the report is printed, when a check failed. */
export class DoctorFailedError extends NotifyError {}

/** The real provider each slot can use instead of `log`. */
const REAL: Record<ProviderKey, string> = { apns: 'apns', fcm: 'fcm', webpush: 'webpush', sms: 'twilio', email: 'smtp' };

const EXAMPLES = `
Checks, one line each (ok, warn or fail with a fix):
  config      config.json loads and passes validation
  database    the database opens and its schema version is current
  daemon      whether a daemon is running for this home (a warning when not)
  <channel>   credentials exist, are readable and parse (.p8 key, service account JSON, VAPID keys,
              SMTP URL), and the provider answers: a TLS + HTTP/2 session with APNs, an access token
              from the service account's token_uri and a TLS connection to FCM, Twilio's account
              resource, SMTP connect + EHLO + STARTTLS + AUTH. Nothing is sent.
Channels still on the built-in log provider are warnings. Exit 1 when any check fails.

Examples:
  $ notify doctor
  $ notify doctor --offline          # no network: config, files and database only
  $ notify doctor --json | jq '.checks[] | select(.status != "ok")'`;

export function register(program: Command, ctx: Ctx): void {
  program.command('doctor')
    .description(describe('doctor'))
    .option('--offline', 'skip the network checks')
    .option('--timeout <ms>', 'longest wait for each network check (default 10000)', positiveInt)
    .option('--json', 'print the report as JSON')
    .addHelpText('after', EXAMPLES)
    .action(ctx.action(async (deps, opts: { offline?: boolean; timeout?: number; json?: boolean }) => {
      const report = await run({ offline: opts.offline, timeoutMs: opts.timeout, json: opts.json }, deps);
      print(deps, report, opts.json);
      const failed = report.checks.filter((c) => c.status === 'fail');
      if (failed.length) {
        throw new DoctorFailedError(`${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.check).join(', ')}`);
      }
    }));
}

export async function run(options: DoctorOptions, deps: Deps): Promise<DoctorReport> {
  const { home } = deps;
  const checks: CheckResult[] = [];
  const report = (): DoctorReport => ({ home, ok: !checks.some((c) => c.status === 'fail'), checks });

  let config: Config;
  try {
    config = await deps.config();
    const { configPath } = await import('../config.js');
    checks.push({ check: 'config', status: 'ok', detail: `${configPath(home)} is valid` });
  } catch (err) {
    if (!(err instanceof NotifyError)) throw err;
    checks.push({ check: 'config', status: 'fail', detail: err.message, fix: existsSync(join(home, 'config.json')) ? 'fix the key named, e.g. with "notify config set" or "notify config unset"' : 'notify init' });
    return report();
  }

  checks.push(await checkDatabase(home, config));
  checks.push(await checkDaemon(home));

  const ctx: CheckContext = { home, timeoutMs: options.timeoutMs, offline: options.offline };
  const check = await import('../channels/check.js');
  for (const provider of PROVIDERS) {
    const c = config.channels[provider];
    if (c.provider === 'log') {
      checks.push({
        check: provider, status: 'warn', detail: `on the log provider: writes to ${join(home, 'log', `${provider}.jsonl`)} instead of sending`,
        fix: `notify config set channels.${provider}.provider ${REAL[provider]} (and its credentials)`,
      });
      continue;
    }
    switch (provider) {
      case 'apns': checks.push(...(await check.checkApns(config.channels.apns, ctx))); break;
      case 'fcm': checks.push(...(await check.checkFcm(config.channels.fcm, ctx))); break;
      case 'webpush': checks.push(...(await check.checkWebPush(config.channels.webpush, ctx))); break;
      case 'sms': checks.push(...(await check.checkTwilio(config.channels.sms, ctx))); break;
      case 'email': checks.push(...(await check.checkSmtp(config.channels.email, ctx))); break;
    }
  }
  return report();
}

async function checkDatabase(home: string, config: Config): Promise<CheckResult> {
  const { databasePath } = await import('../config.js');
  const path = databasePath(home, config);
  if (!existsSync(path)) return { check: 'database', status: 'fail', detail: `no database at ${path}`, fix: 'notify init (or point "database" in config.json at the file)' };
  const { openDatabase, readMigrations } = await import('../store/db.js');
  let db;
  try {
    db = openDatabase(path, { readonly: true });
  } catch (err) {
    return { check: 'database', status: 'fail', detail: (err as Error).message, fix: 'check the file\'s permissions and the "database" key in config.json' };
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = readMigrations().at(-1)?.version ?? 0;
    if (version > latest) return { check: 'database', status: 'fail', detail: `${path}: schema ${version} is newer than this notify knows (${latest})`, fix: 'upgrade notify' };
    const queued = db.prepare("SELECT count(*) FROM deliveries WHERE status IN ('queued', 'failed')").pluck().get() as number;
    if (version < latest) {
      return { check: 'database', status: 'warn', detail: `${path}: schema ${version}, this notify knows ${latest}`, fix: 'any notify command that writes (or the daemon) migrates it; back the file up first' };
    }
    return { check: 'database', status: 'ok', detail: `${path}: schema ${version} (current), ${queued.toLocaleString('en-US')} deliveries waiting` };
  } catch (err) {
    return { check: 'database', status: 'fail', detail: `${path}: ${(err as Error).message}`, fix: 'restore the database from a backup' };
  } finally {
    db.close();
  }
}

async function checkDaemon(home: string): Promise<CheckResult> {
  const { readStatus } = await import('../daemon/client.js');
  const status = await readStatus(home, 500).catch(() => undefined);
  if (status) return { check: 'daemon', status: 'ok', detail: `running (pid ${status.pid}, ${status.state})` };
  return { check: 'daemon', status: 'warn', detail: 'no daemon is running for this home: queued deliveries wait', fix: 'notify daemon start' };
}

function print(deps: Deps, report: DoctorReport, json: boolean | undefined): void {
  const { io } = deps;
  if (json) {
    io.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const width = Math.max(...report.checks.map((c) => c.check.length));
  for (const c of report.checks) {
    const fix = c.fix && c.status !== 'ok' ? ` — fix: ${c.fix}` : '';
    io.stdout.write(io.isTTY
      ? `${c.status.padEnd(4)}  ${c.check.padEnd(width)}  ${c.detail}${fix}\n`
      : `${c.status}\t${c.check}\t${c.detail}${c.fix && c.status !== 'ok' ? `\t${c.fix}` : ''}\n`);
  }
}
