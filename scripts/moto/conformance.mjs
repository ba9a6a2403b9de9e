#!/usr/bin/env node
// Keeps the KMS capability table honest (src/kms/capabilities.ts): runs the same probe as
// `cryptgate kms probe --kms <backend>` and fails when the backend's answers contradict
// what cryptgate declares it can reproduce. CI runs it after scripts/moto/install.sh:
//   npm run build && node scripts/moto/conformance.mjs            # moto (the default)
//   node scripts/moto/conformance.mjs embedded moto http://127.0.0.1:4566
// Exit: 0 every probe ran and matched its declaration; 1 a declaration is wrong;
//       2 usage (dist/ not built); 3 a backend could not be started or reached
//       (moto missing is a failure here, never a skip).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dist = fileURLToPath(new URL('../../dist/src/kms/', import.meta.url));
if (!existsSync(`${dist}probe.js`)) {
  process.stderr.write(`conformance: ${dist}probe.js missing: run \`npm run build\` first\n`);
  process.exit(2);
}
const { startKmsBackend } = await import(new URL('../../dist/src/kms/backend.js', import.meta.url).href);
const { runKmsProbe, renderProbeTable } = await import(new URL('../../dist/src/kms/probe.js', import.meta.url).href);

const specs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['moto'];
let exitCode = 0;
const summary = [];
for (const spec of specs) {
  let backend;
  try {
    backend = await startKmsBackend(spec);
  } catch (err) {
    process.stderr.write(`conformance: --kms ${spec}: ${err?.message ?? err}\n`);
    summary.push(`${spec}: could not start or reach (${err?.name ?? 'Error'})`);
    exitCode = Math.max(exitCode, typeof err?.exitCode === 'number' ? err.exitCode : 3);
    continue;
  }
  try {
    const result = await runKmsProbe(backend);
    process.stdout.write(`${renderProbeTable(result)}\n`);
    if (result.mismatches.length > 0) {
      exitCode = Math.max(exitCode, 1);
      summary.push(`${spec}: ${result.mismatches.length} declared capabilit${result.mismatches.length === 1 ? 'y is' : 'ies are'} wrong: ` +
        result.mismatches.map((m) => `${m.capability} declared ${m.declared}, observed ${m.observed}`).join('; '));
    } else {
      summary.push(`${spec}: ${result.backend.description}: declared capabilities match`);
    }
  } catch (err) {
    process.stderr.write(`conformance: --kms ${spec}: ${err?.message ?? err}\n`);
    summary.push(`${spec}: probe could not run (${err?.name ?? 'Error'})`);
    exitCode = Math.max(exitCode, typeof err?.exitCode === 'number' ? err.exitCode : 3);
  } finally {
    await backend.stop();
  }
}
process.stdout.write(`KMS conformance:\n${summary.map((s) => `  ${s}`).join('\n')}\n`);
process.exit(exitCode);
