// One strongSwan charon per node, inside the node's namespace, with everything of its own:
// strongswan.conf, swanctl.conf, log, vici socket and /run (charon's pid file path is
// compiled in, so each charon gets a private /run through a bind mount in the mount
// namespace `ip netns exec` creates). swanctl talks to it over its vici socket.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../../src/util/errors.js';
import type { LiveTools } from './availability.js';
import type { TopologyNode } from './netns.js';
import { Daemon, liveEnv, runTool, waitUntil, type ToolResult } from './process-kit.js';

export interface CharonFiles {
  dir: string;
  run: string;
  log: string;
  vici: string;
  strongswanConf: string;
  swanctlConf: string;
}

export function charonFiles(workDir: string, node: TopologyNode): CharonFiles {
  const dir = join(workDir, `n${node.index}`);
  return {
    dir,
    run: join(dir, 'run'),
    log: join(dir, 'charon.log'),
    vici: join(dir, 'charon.vici'),
    strongswanConf: join(dir, 'strongswan.conf'),
    swanctlConf: join(dir, 'swanctl.conf'),
  };
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export class CharonNode {
  private daemon: Daemon | undefined;

  constructor(
    readonly node: TopologyNode,
    readonly files: CharonFiles,
    private readonly tools: LiveTools,
    private readonly runId: string,
  ) {}

  /** Starts charon (its config files must be written) and waits for its vici socket. */
  async start(timeoutMs = 10_000): Promise<void> {
    mkdirSync(this.files.run, { recursive: true, mode: 0o700 });
    const script = 'mount -n --bind "$1" /run && exec "$2"';
    this.daemon = new Daemon(`charon on ${this.node.name}`, this.tools.ip, ['netns', 'exec', this.node.ns, this.tools.sh, '-c', script, 'sh', this.files.run, this.tools.charon], {
      env: liveEnv(this.runId, { STRONGSWAN_CONF: this.files.strongswanConf }),
    });
    await waitUntil(`charon's vici socket on ${this.node.name}`, () => {
      if (this.daemon!.exited) throw new EnvironmentError(this.daemon!.describeExit());
      return isSocket(this.files.vici);
    }, timeoutMs);
  }

  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  swanctl(command: string, args: string[], options: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<ToolResult> {
    return runTool(this.tools.swanctl, [command, '--uri', `unix://${this.files.vici}`, ...args], {
      env: { ...process.env, STRONGSWAN_CONF: this.files.strongswanConf },
      timeoutMs: options.timeoutMs ?? 10_000,
      allowFailure: options.allowFailure ?? false,
    });
  }

  /** Loads connections and secrets from the node's swanctl.conf. */
  async load(): Promise<void> {
    await this.swanctl('--load-all', ['--file', this.files.swanctlConf]);
  }

  /** Starts the child SA (and its IKE SA) and waits for the outcome, up to timeoutS. */
  initiate(child: string, timeoutS: number): Promise<ToolResult> {
    return this.swanctl('--initiate', ['--child', child, '--timeout', String(timeoutS)], { timeoutMs: (timeoutS + 5) * 1000, allowFailure: true });
  }

  /** `swanctl --list-sas` for one IKE connection, as text. */
  async listSas(ike: string): Promise<string> {
    return (await this.swanctl('--list-sas', ['--ike', ike], { allowFailure: true })).stdout;
  }

  async stop(): Promise<void> {
    await this.daemon?.stop('SIGTERM', 3000);
  }

  /** For signal handlers: kill without waiting. */
  killNow(): void {
    this.daemon?.signal('SIGKILL');
  }
}
