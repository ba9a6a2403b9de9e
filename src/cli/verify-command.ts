// `cryptgate verify <report>`: is this report the one that was signed? Exit 0 yes, 1 it (or
// its signature) was changed, 2 bad input (no or malformed signature file), 3 the KMS that
// holds the key cannot be reached (or does not have the key).
import { Command, Option } from 'commander';
import { readSignatureFile, verifyReport } from '../audit/signature.js';
import { BACKEND_SPEC_HELP } from '../kms/backend-spec.js';
import { withKmsClient } from '../kms/backend.js';
import { EXIT_FAIL, EXIT_PASS } from '../util/errors.js';
import type { CommandResult } from './main.js';

interface VerifyOptions {
  signature?: string;
  kms: string;
  kmsState?: string;
  region?: string;
}

export function registerVerifyCommand(program: Command, result: CommandResult): void {
  program
    .command('verify')
    .description('check a signed report against its detached KMS signature (<report>.sig.json)')
    .argument('<report>', 'the report file that `cryptgate audit … --out <report> --sign <key>` wrote')
    .option('--signature <file>', 'the signature file (default: <report>.sig.json)')
    .addOption(new Option('--kms <backend>', `the KMS holding the signing key: ${BACKEND_SPEC_HELP}`).default('embedded'))
    .option('--kms-state <dir>', "the embedded KMS's state folder (as `cryptgate kms serve --state <dir>`)")
    .option('--region <region>', "KMS region (default: the signing key ARN's)")
    .addHelpText(
      'after',
      `
The report's canonical bytes (canonical JSON for a JSON report, the exact bytes otherwise)
are digested and the digest is checked against the signature file, then the signature is
checked by KMS Verify with the signing key.

Exit codes: 0 the report is the one signed, 1 the report or its signature was changed,
2 bad input (signature file missing or malformed), 3 the KMS cannot be reached or lacks the key.`,
    )
    .action(async (report: string, opts: VerifyOptions) => {
      result.exitCode = await verify(report, opts);
    });
}

async function verify(report: string, opts: VerifyOptions): Promise<number> {
  const sigPath = opts.signature ?? `${report}.sig.json`;
  const sig = readSignatureFile(sigPath);
  return withKmsClient(opts.kms, { keyId: sig.keyId, region: opts.region, stateDir: opts.kmsState }, async (client, backend) => {
    const outcome = await verifyReport(report, sig, client);
    if (outcome.ok) {
      process.stdout.write(`OK: ${report} is the report signed at ${sig.signedAt} by ${outcome.keyId} (${outcome.algorithm}); checked with ${backend.description}\n`);
      return EXIT_PASS;
    }
    process.stdout.write(`TAMPERED: ${outcome.reason}\n`);
    return EXIT_FAIL;
  });
}
