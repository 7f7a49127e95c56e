#!/usr/bin/env node
// Shim: load the compiled CLI and hand it the process. Exit codes come from src/cli.ts.
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
