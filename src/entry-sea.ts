/**
 * Entry of the bundle that scripts/package.js turns into the single executable: what bin/notify.js does
 * for the npm install, in CommonJS (a SEA's main script cannot be an ES module or await at top level).
 */
import { main } from './cli.js';

// `notify ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
