/**
 * Counting a segment over the seeded users (same shape as the import's CSV, plus a locale mix):
 * an indexed column (`locale = 'ko'`) and a JSON attribute (`plan = 'pro'`), through the store API
 * the CLI and the API use. First run and the median of the next five.
 */
import { performance } from 'node:perf_hooks';
import { compileSegment } from '../src/core/segment.js';
import { USERS, atMost, median, openHomeStore, round, seededHome, type Metrics, type Target } from './common.js';

export const name = 'segment-count';

export const targets: Record<string, Target> = {
  indexedMedianMs: atMost(100, 'ms (well under 1 s)'),
  indexedFirstMs: atMost(1000, 'ms'),
};

const CASES: [string, string][] = [
  ['indexed', "locale = 'ko'"],
  ['attribute', "plan = 'pro'"],
  ['attributeAndIndexed', "locale = 'ko' and plan = 'pro'"],
];

export async function run(): Promise<Metrics> {
  const { home, seedMs } = await seededHome();
  const store = await openHomeStore(home);
  const metrics: Metrics = { users: USERS, seedSeconds: round(seedMs / 1000) };
  try {
    if (!(await store.segments.get('bench-ko'))) await store.segments.create('bench-ko', "locale = 'ko'");
    for (const [label, expression] of CASES) {
      const filter = compileSegment(expression);
      const times: number[] = [];
      let count = 0;
      for (let i = 0; i < 6; i++) {
        const t = performance.now();
        count = await store.segments.countWhere(filter);
        times.push(performance.now() - t);
      }
      metrics[`${label}FirstMs`] = round(times[0]!);
      metrics[`${label}MedianMs`] = round(median(times.slice(1)));
      metrics[`${label}Count`] = count;
      const plan = store.db.prepare(`EXPLAIN QUERY PLAN SELECT count(*) FROM users u WHERE (${filter.sql})`).all(...filter.params) as { detail: string }[];
      metrics[`${label}Plan`] = plan.map((p) => p.detail).join('; ');
    }
    // The named-segment path (`notify segments count bench-ko`): lookup + compile + count.
    const t = performance.now();
    metrics.namedSegmentCount = await store.segments.count('bench-ko');
    metrics.namedSegmentMs = round(performance.now() - t);
  } finally {
    await store.close();
  }
  return metrics;
}
