#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled by `npm run build` into dist/.
// The AWS SDK warns on every run under Node 20 that releases after January 2027 need
// Node 22; cryptgate's engines field says so once, the CI gate's log need not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/src/cli/main.js');

main(process.argv).then((code) => {
  process.exitCode = code;
});
