// Bundles the CLI's entry (dist/src/cli.js) with what it imports statically — commander and a few
// small modules of ours — into dist/src/cli.bundle.js, which bin/notify.js loads. Start-up is most of
// `notify --help`, and each module loaded is a file read, parsed and linked: one file instead of
// fourteen takes about a third off the time over bare node. What cli.js imports dynamically (each
// command, the config and store) stays an import of the compiled files beside it, so commands still
// load lazily; errors keep one identity across the two copies of errors.js (NotifyError's
// Symbol.hasInstance).
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';

const entry = resolve('dist/src/cli.js');

await build({
  entryPoints: [entry],
  outfile: 'dist/src/cli.bundle.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // commander is CommonJS: its require() calls need a require in an ES module.
  banner: { js: "import { createRequire as __notifyRequire } from 'node:module'; const require = __notifyRequire(import.meta.url);" },
  plugins: [{
    name: 'lazy-modules-stay-separate',
    setup(b) {
      // Every dynamic import stays one, as written: the bundle sits beside cli.js, so a relative
      // path from a module in that folder still points at the right file.
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        if (/^\.\.?\//.test(args.path) && dirname(args.importer) !== dirname(entry)) {
          return { errors: [{ text: `${args.importer} imports ${args.path} lazily from another folder: the bundle would point it elsewhere` }] };
        }
        return { path: args.path, external: true };
      });
    },
  }],
});
