#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled by `npm run build` into dist/.
import { main } from '../dist/src/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
