// `cryptgate kms serve`: the embedded KMS on its own, like moto_server.
// `cryptgate kms probe --kms <backend>`: what a backend reproduces of real AWS KMS.
//
// The KMS code (and the AWS SDK under it) is imported when one of these commands runs, not
// when the program starts: `cryptgate check` should not pay ~0.2 s to load an SDK it never uses.
import { Command, Option } from 'commander';
import { BACKEND_SPEC_HELP } from '../kms/backend-spec.js';
import { EXIT_FAIL, EXIT_PASS, InputError } from '../util/errors.js';
import type { CommandResult } from './main.js';

interface ServeOptions {
  port: string;
  state?: string;
  region?: string;
  account?: string;
  verbose?: boolean;
}

interface ProbeCliOptions {
  kms: string;
  region?: string;
  format: 'text' | 'json';
  strict?: boolean;
  timeout?: string;
  verbose?: boolean;
}

export function registerKmsCommand(program: Command, result: CommandResult): void {
  const kms = program.command('kms').description('the embedded KMS server, and a conformance probe of any KMS backend');

  kms
    .command('serve')
    .description('run the embedded KMS on 127.0.0.1 for any AWS SDK or CLI (like moto_server), until Ctrl+C')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)', '4566')
    .option('--state <dir>', 'keep keys in this folder across restarts (default: in memory only)')
    .option('--region <region>', 'the region shown in the examples (every region is served)')
    .option('--account <id>', 'the 12-digit account of administrator callers (default 000000000000)')
    .option('-v, --verbose', 'one line per request on stderr (operation, caller, status; never bodies)')
    .addHelpText(
      'after',
      `
Use it through an endpoint URL, exactly as you would LocalStack or moto:
  cryptgate kms serve --port 4566 --state ./kms-state &
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://127.0.0.1:4566 kms create-key --description demo
  aws --endpoint-url http://127.0.0.1:4566 kms generate-data-key --key-id <KeyId> --key-spec AES_256
  (or AWS_ENDPOINT_URL_KMS=http://127.0.0.1:4566, which recent AWS CLIs and SDKs read)
  cryptgate run --kms http://127.0.0.1:4566        # the Gherkin suite against this server

Callers: any access key signed with secret "test" is the account administrator (account
000000000000, or the account a 12-digit access key id names); the region is the one the
request is signed for. Requests are SigV4-verified: a wrong secret is refused as AWS would.
Unlike moto, disabled keys refuse use, rotation makes new key material, key policies are
evaluated, and a wrong Decrypt KeyId is IncorrectKeyException.

Admin API (no auth; loopback only):
  GET  /_cryptgate/health                 {"status":"ok"}
  POST /_cryptgate/faults  (JSON)         e.g. {"throttle":{"next":2}}, {"outage":{"next":1,"status":503}},
                                          {"hang":{"next":1}}, {"latencyMs":50}; DELETE clears them
  GET  /_cryptgate/counters               requests per operation and caller (every SDK retry counts)
  POST /_cryptgate/counters/reset
  curl -X POST -H 'Content-Type: application/json' -d '{"throttle":{"next":2}}' http://127.0.0.1:4566/_cryptgate/faults

Environment: CRYPTGATE_KMS_STATE_PASSPHRASE derives the --state folder's master key from a
passphrase instead of writing master.key (0600) next to the state.

Exit codes: 0 stopped cleanly, 2 bad option, 3 port in use or state folder unusable.`,
    )
    .action(async (opts: ServeOptions) => {
      const { runKmsServe } = await import('../../simulators/kms/main.js');
      result.exitCode = await runKmsServe({
        port: opts.port,
        ...(opts.state !== undefined ? { state: opts.state } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(opts.account !== undefined ? { accountId: opts.account } : {}),
        ...(opts.verbose ? { verbose: true } : {}),
      });
    });

  kms
    .command('probe')
    .description('run a short conformance probe against a KMS backend and show what it reproduces of real AWS KMS')
    .addOption(new Option('--kms <backend>', `KMS backend: ${BACKEND_SPEC_HELP}`).default('embedded'))
    .option('--region <region>', 'region for the client (default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--strict', 'exit 1 when the backend contradicts the capability table cryptgate declares for it')
    .option('--timeout <ms>', 'per-request time-out in milliseconds (each request is tried up to 4 times)')
    .option('-v, --verbose', 'print each KMS call on stderr as it is made')
    .addHelpText(
      'after',
      `
The probe creates three symmetric keys, then checks, as real AWS KMS documents them:
  GenerateDataKey AES_256 / AES_128 and Decrypt round trip; DisableKey by key ARN, then
  GenerateDataKey (expect DisabledException); RotateKeyOnDemand, then Decrypt of an old
  ciphertext and a new key material id; ListKeyRotations; Decrypt naming another key
  (expect IncorrectKeyException); Decrypt under a key pending deletion (expect
  KMSInvalidStateException); Encrypt under a key policy that denies kms:Encrypt (expect
  AccessDeniedException). Every probe key is then scheduled for deletion (7 days).
It prints: behaviour | expected (real AWS) | this backend | reproducible?, and whether the
backend's capability table (what \`cryptgate run\` relies on to mark scenarios "not
reproducible on this backend") matches what it did.

Backends:
  embedded                 the built-in KMS (default; no install)
  moto                     starts moto_server from $MOTO_SERVER, ./.venv, or PATH
                           (install: bash scripts/moto/install.sh)
  localstack               LocalStack 4.14.0 in Docker via testcontainers (needs Docker;
                           LOCALSTACK_AUTH_TOKEN is passed through for newer images)
  http://127.0.0.1:4566    any running endpoint (moto_server, LocalStack, cryptgate kms serve)
  https://kms.eu-west-1.amazonaws.com   real AWS: uses your AWS credentials and creates
                           (then schedules deletion of) real keys, which AWS bills

Credentials for an endpoint URL: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN],
else test/test (for real AWS: the SDK's default chain, e.g. AWS_PROFILE or an instance role).

Exit codes: 0 the probe ran (however lax the backend), 1 with --strict when the declared
capabilities are wrong, 2 bad option, 3 the backend could not be started or reached.`,
    )
    .action(async (opts: ProbeCliOptions) => {
      let timeoutMs: number | undefined;
      if (opts.timeout !== undefined) {
        timeoutMs = /^\d+$/.test(opts.timeout) ? Number(opts.timeout) : NaN;
        if (!(timeoutMs! > 0)) throw new InputError(`--timeout ${opts.timeout}: expected a positive number of milliseconds`);
      }
      const [{ startKmsBackend }, { renderProbeTable, runKmsProbe }] = await Promise.all([import('../kms/backend.js'), import('../kms/probe.js')]);
      const log = opts.verbose ? (line: string) => process.stderr.write(`kms: ${line}\n`) : undefined;
      if (opts.kms === 'moto' || opts.kms === 'localstack') process.stderr.write(`cryptgate: starting ${opts.kms}…\n`);
      const backend = await startKmsBackend(opts.kms, {
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(log !== undefined ? { log } : {}),
      });
      try {
        const probe = await runKmsProbe(backend, log !== undefined ? { log } : {});
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify(probe, null, 2)}\n` : renderProbeTable(probe));
        result.exitCode = opts.strict && probe.mismatches.length > 0 ? EXIT_FAIL : EXIT_PASS;
      } finally {
        await backend.stop();
      }
    });
}
