/**
 * Health and metrics: no app key needed, so bind `server.listen` to a private address (or put a proxy
 * in front that blocks these paths from the outside world).
 *
 * GET /healthz        liveness: 200 { status: "ok", database } while the daemon runs; 503 once it stopped.
 *                     `database` reports the readiness check without failing liveness.
 * GET /healthz/ready  readiness: 200 { status: "ready" } when the database answers, else 503.
 * GET /metrics        Prometheus text format (see metrics.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';

export interface HealthContext {
  store: Store;
  /** Prometheus text of the daemon and the API. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** False once the daemon stopped. */
  running(): boolean;
}

async function database(store: Store): Promise<string> {
  try {
    await store.apps.ping();
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

export function registerHealthRoutes(app: FastifyInstance, ctx: HealthContext): void {
  app.get('/healthz', async (_request, reply) => {
    const db = await database(ctx.store);
    const live = ctx.running();
    return reply.code(live ? 200 : 503).send({ status: live ? 'ok' : 'stopped', database: db });
  });

  app.get('/healthz/ready', async (_request, reply) => {
    const db = await database(ctx.store);
    const ready = db === 'ok' && ctx.running();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', database: db });
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await ctx.metrics();
    return reply.type(contentType).send(body);
  });
}
