import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as create from './create.js';
import * as list from './list.js';
import * as revoke from './revoke.js';
import * as rotate from './rotate.js';
import { describe } from '../catalog.js';

const HELP = `
Apps are the API's clients. Each has a key (ak_...) and a secret (sk_...) sent as HTTP Basic auth
(key as user name, secret as password). The secret is printed once, at create and rotate, and stored only
as a hash: keep it in your secret store.

Scopes:
  send          POST /v1/notifications, GET /v1/notifications/{id}
  contacts      PUT /v1/users/{id}, POST and DELETE /v1/users/{id}/devices
  preferences   GET and PUT /v1/users/{id}/preferences
  events        POST /v1/events (opened, clicked, dismissed)

A running daemon trusts a key it has checked for up to 5 seconds: revocation takes effect within that.

Examples:
  $ notify apps create checkout --scopes send --rate 500/s
  $ notify apps create mobile --scopes contacts,preferences,events --json
  $ notify apps list
  $ notify apps rotate checkout --yes
  $ notify apps revoke mobile --yes`;

export function register(program: Command, ctx: Ctx): void {
  const apps = program.command('apps')
    .description(describe('apps'))
    .addHelpText('after', HELP);
  for (const verb of [create, list, revoke, rotate]) verb.register(apps, ctx);
}
