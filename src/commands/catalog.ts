/**
 * The top-level commands: names and one-line descriptions. src/cli.ts builds the help from this
 * table and loads only the command a line names, so `notify --help` stays fast.
 */
export const COMMANDS = {
  demo: 'try notify end to end on the embedded defaults (SQLite, log providers; no credentials)',
  init: 'create the notify home: config.json and the SQLite database',
  config: 'read and change config.json (validated on every change)',
  users: 'the people notifications go to',
  devices: 'phones and browsers that receive push',
  prefs: 'what each person wants to receive, on which channel; suppressed addresses',
  templates: 'what notifications say on each channel, with Liquid, locales and versions',
  segments: 'named filters over users, for sends and campaigns',
  send: 'send a template to a segment (a campaign) or to users; written to the outbox, sent by the daemon',
  campaigns: 'campaigns and scheduled sends: list, show, cancel, pause, resume',
  schedule: 'recurring sends on a cron schedule (run by the daemon)',
  daemon: 'the dispatch daemon: start, stop, status',
  top: 'live view of the daemon: lanes, rates, campaigns and errors (one snapshot when not a terminal)',
  log: 'deliveries and their transitions, newest first',
  stats: 'delivery, open, click and unsubscribe counts and rates, with latency percentiles',
  events: 'engagement and delivery events for analytics',
  apps: 'API clients: app keys, secrets, scopes and rates',
  channels: 'provider channels: keys and test sends',
  doctor: 'check the config, database, credentials and provider connectivity (sends nothing)',
  db: 'the database: backup',
} as const;

export type CommandName = keyof typeof COMMANDS;

export function describe(name: CommandName): string {
  return COMMANDS[name];
}
