/**
 * Preferences over the API (scope `preferences`): what a person wants per channel and category.
 *
 * GET /v1/users/{id}/preferences
 *   -> 200 { user_id, preferences: [{ channel, category, opt_in, origin, source, updated_at }] } for every
 *      channel × configured category; `origin` says where the answer came from: a choice for the category,
 *      a choice for the whole channel, or the default.
 *
 * PUT /v1/users/{id}/preferences
 *   { "preferences": [{ "channel": "email", "category": "marketing", "opt_in": false },
 *                     { "channel": "sms", "opt_in": false }] }       category absent or "*": the whole channel
 *   Records the listed choices (source `api`) in one transaction; choices not listed stay as they are.
 *   Repeating a stored choice writes nothing. -> 200 the GET body plus { changed, unchanged }.
 *   404 when the user does not exist; 400 with the field (`preferences[1].category`) for a bad entry.
 */
import type { FastifyInstance } from 'fastify';
import { checkCategory, effectivePreferences } from '../../core/policy.js';
import { CHANNELS, type Channel } from '../../core/types.js';
import { InputError } from '../../errors.js';
import type { PreferenceChange } from '../../store/prefs.js';
import { fromInputError } from './errors.js';
import type { RouteContext } from './notifications.js';
import { noUser, userIdParams } from './users.js';

const putBody = {
  type: 'object',
  additionalProperties: false,
  required: ['preferences'],
  properties: {
    preferences: {
      type: 'array', minItems: 1, maxItems: 200,
      items: {
        type: 'object', additionalProperties: false, required: ['channel', 'opt_in'],
        properties: { channel: { type: 'string', enum: [...CHANNELS] }, category: { type: 'string', minLength: 1, maxLength: 64 }, opt_in: { type: 'boolean' } },
      },
    },
  },
} as const;

interface PutBody {
  preferences: { channel: Channel; category?: string; opt_in: boolean }[];
}

export function registerPreferenceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const current = async (userId: string) => {
    const rows = await ctx.store.prefs.get(userId);
    return {
      user_id: userId,
      preferences: effectivePreferences(rows, ctx.config).map((p) => ({
        channel: p.channel, category: p.category, opt_in: p.optIn, origin: p.origin, source: p.source ?? null, updated_at: p.updatedAt ?? null,
      })),
    };
  };

  app.get<{ Params: { id: string } }>('/users/:id/preferences', { schema: { params: userIdParams }, config: { scope: 'preferences' } }, async (request) => {
    if (!(await ctx.store.users.get(request.params.id))) throw noUser(request.params.id);
    return current(request.params.id);
  });

  app.put<{ Params: { id: string }; Body: PutBody }>('/users/:id/preferences', {
    schema: { params: userIdParams, body: putBody }, config: { scope: 'preferences' },
  }, async (request) => {
    const userId = request.params.id;
    const known = Object.keys(ctx.config.categories);
    const changes: PreferenceChange[] = request.body.preferences.map((p, i) => {
      try {
        return { userId, channel: p.channel, category: checkCategory(p.category ?? '*', known), optIn: p.opt_in, source: 'api' };
      } catch (err) {
        if (err instanceof InputError) throw fromInputError(err, `preferences[${i}]`);
        throw err;
      }
    });
    if (!(await ctx.store.users.get(userId))) throw noUser(userId);
    const result = await ctx.store.prefs.set(changes);
    return { ...(await current(userId)), changed: result.changed, unchanged: result.unchanged };
  });
}
