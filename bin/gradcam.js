#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli by `npm install` (the prepare script runs tsc).
import('../dist/src/cli/main.js').then((cli) => cli.main(process.argv.slice(2)));
