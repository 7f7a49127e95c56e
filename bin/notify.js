#!/usr/bin/env node
// Shim: load the compiled CLI (its entry bundled for start-up time: scripts/bundle-cli.js) and hand it
// the process. Exit codes come from src/cli.ts.
import { main } from '../dist/src/cli.bundle.js';

// `notify ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
