// Bundles the CLI's entry (dist/src/cli.js) with commander into dist/src/cli.bundle.js, which
// bin/notify.js loads. Start-up is most of `notify --help`: one file instead of commander's nine
// modules halves the time over bare node. Only packages are inlined: our own modules (./, ../) stay
// imports of the compiled files beside it, so commands still load lazily and every class has one
// identity (errors thrown by a command are instances of the classes cli.js checks).
import { resolve } from 'node:path';
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
    name: 'own-modules-stay-separate',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => (args.importer === entry ? { path: args.path, external: true } : undefined));
    },
  }],
});
