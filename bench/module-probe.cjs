// Loaded with `node --require` by bench/cli-startup.ts: at exit, writes every module the process
// loaded — require.cache (CommonJS) and, through a resolve hook, every ES module URL — to
// $NOTIFY_BENCH_PROBE_OUT as JSON lines.
'use strict';
const fs = require('node:fs');
const out = process.env.NOTIFY_BENCH_PROBE_OUT;
if (out) {
  const esmOut = out + '.esm';
  try {
    const { register } = require('node:module');
    const hook = `import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        try { appendFileSync(${JSON.stringify(esmOut)}, r.url + '\\n'); } catch {}
        return r;
      }`;
    register('data:text/javascript,' + encodeURIComponent(hook));
  } catch {
    // Older Node: require.cache only.
  }
  process.on('exit', () => {
    fs.writeFileSync(out, JSON.stringify({ cjs: Object.keys(require.cache) }) + '\n');
  });
}
