// The cryptgate command line (commander). Every command returns an exit code per the
// contract in DESIGN.md; user mistakes print one clear line, never a stack trace.
import { Command, CommanderError } from 'commander';
import { toolInfo } from '../util/package-info.js';
import { EXIT_BAD_INPUT, EXIT_ENVIRONMENT, InputError, EnvironmentError } from '../util/errors.js';

type Registrar = (program: Command, result: CommandResult) => void;

/**
 * The commands, each loaded only when needed: `check` on a huge capture should not spend a
 * third of a second loading the AWS SDK and the simulators that `sim` and `kms` use.
 */
const COMMANDS: [name: string, load: () => Promise<Registrar>][] = [
  ['check', async () => (await import('./check-command.js')).registerCheckCommand],
  ['audit', async () => (await import('./audit-command.js')).registerAuditCommand],
  ['verify', async () => (await import('./verify-command.js')).registerVerifyCommand],
  ['render', async () => (await import('./render-command.js')).registerRenderCommand],
  ['kms', async () => (await import('./kms-command.js')).registerKmsCommand],
  ['run', async () => (await import('./run-command.js')).registerRunCommand],
  ['sim', async () => (await import('./sim-command.js')).registerSimCommand],
];

/** Where a command's action leaves its exit code. */
export interface CommandResult {
  exitCode: number;
}

/**
 * The program with the command named in `argv` registered, or with every command when none
 * is named (or an unknown one is), so `--help` and commander's suggestions see them all.
 */
export async function buildProgram(argv: readonly string[], result: CommandResult = { exitCode: 0 }): Promise<Command> {
  const program = new Command();
  program
    .name('cryptgate')
    .description(
      'Prove, with evidence, that a multi-node analytics cluster keeps its encryption promises:\n' +
        'every byte between nodes inside IPsec ESP, and extracts at rest under an AWS KMS key hierarchy.',
    )
    .version(toolInfo().version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every check passed
  1  a compliance check failed
  2  bad input or usage (the message names the file, offset and what was expected)
  3  environment or backend error (KMS unreachable, tool missing)

Examples:
  cryptgate check capture node1.pcapng node2.pcapng --nodes 10.0.0.11,10.0.0.12
  cryptgate check capture switch.pcap.gz --nodes 10.0.0.0/24 --format sarif --out ipsec.sarif
  cryptgate audit evidence/ --policy cluster.yaml --format html --out audit.html
  cryptgate verify audit.json --kms http://127.0.0.1:4566
  cryptgate render audit.json --format sarif --out audit.sarif
  cryptgate run --report-dir reports`,
    );
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    writeOut: (s) => process.stdout.write(s),
  });
  const named = COMMANDS.filter(([name]) => name === argv[2]);
  for (const [, load] of named.length > 0 ? named : COMMANDS) (await load())(program, result);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  try {
    const program = await buildProgram(argv, result);
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (err) {
    return exitCodeFor(err);
  }
}

/** Maps an error to the exit-code contract, printing one line for expected failures. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version requests end here too, with exit code 0.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return EXIT_BAD_INPUT;
  }
  if (err instanceof InputError) {
    process.stderr.write(`cryptgate: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (err instanceof EnvironmentError) {
    process.stderr.write(`cryptgate: ${err.message}\n`);
    return EXIT_ENVIRONMENT;
  }
  const e = err as Error;
  process.stderr.write(`cryptgate: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.CRYPTGATE_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('(this is a bug in cryptgate; set CRYPTGATE_DEBUG=1 for details)\n');
  return EXIT_ENVIRONMENT;
}
