// tcpdump on the bridge: what a capture at the switch sees. It writes to a temporary name
// in the evidence folder, and only a capture that stopped cleanly with every packet the
// filter accepted written (none dropped) is renamed into place.
import { renameSync, rmSync } from 'node:fs';
import { EnvironmentError } from '../../src/util/errors.js';
import { tempPathFor } from '../../src/util/atomic-file.js';
import type { LiveTools } from './availability.js';
import { Daemon, liveEnv } from './process-kit.js';

export interface CaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

/** Parses the three counters tcpdump prints on exit. */
export function parseTcpdumpStats(stderr: string): CaptureStats | undefined {
  const count = (label: string) => {
    const m = new RegExp(`^(\\d+) packets? ${label}$`, 'm').exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const captured = count('captured');
  const receivedByFilter = count('received by filter');
  const droppedByKernel = count('dropped by kernel');
  if (captured === undefined || receivedByFilter === undefined || droppedByKernel === undefined) return undefined;
  return { captured, receivedByFilter, droppedByKernel };
}

export class BridgeCapture {
  private daemon: Daemon | undefined;
  /** Where tcpdump writes until the capture is complete. */
  readonly temp: string;

  constructor(
    private readonly tools: LiveTools,
    private readonly ns: string,
    private readonly iface: string,
    readonly path: string,
    private readonly runId: string,
  ) {
    this.temp = tempPathFor(path);
  }

  async start(timeoutMs = 10_000): Promise<void> {
    // --immediate-mode: with TPACKET_V3's 1 s block timeout, packets still in the ring at
    // SIGINT are counted but never written. -B 65536 KiB: immediate mode's ring slots are
    // snaplen-sized, and the default 2 MiB ring drops bursts. -Z root: write as root.
    this.daemon = new Daemon(`tcpdump on ${this.iface}`, this.tools.ip, [
      'netns', 'exec', this.ns, this.tools.tcpdump, '-n', '-U', '--immediate-mode', '-B', '65536', '-s', '0', '-Z', 'root', '-i', this.iface, '-w', this.temp,
    ], { env: liveEnv(this.runId) });
    await this.daemon.waitForOutput('start listening', (d) => d.stderr.includes('listening on'), timeoutMs);
  }

  /** Stops the capture and moves the file into place; fails if anything was lost. */
  async stop(): Promise<CaptureStats> {
    const d = this.daemon;
    if (!d) throw new Error('tcpdump was not started');
    d.signal('SIGINT');
    if (!(await d.waitExit(10_000))) {
      await d.stop('SIGKILL', 0);
      rmSync(this.temp, { force: true });
      throw new EnvironmentError(`tcpdump on ${this.iface} did not stop within 10 s`);
    }
    const stats = parseTcpdumpStats(d.stderr);
    if (!stats || stats.captured !== stats.receivedByFilter || stats.droppedByKernel !== 0) {
      rmSync(this.temp, { force: true });
      throw new EnvironmentError(
        `tcpdump on ${this.iface} lost packets: captured ${stats?.captured ?? '?'}, received by filter ${stats?.receivedByFilter ?? '?'}, dropped by kernel ${stats?.droppedByKernel ?? '?'}`,
      );
    }
    renameSync(this.temp, this.path);
    return stats;
  }

  /** For error paths and signal handlers: no file is left behind. */
  abort(): void {
    this.daemon?.signal('SIGKILL');
    rmSync(this.temp, { force: true });
  }
}
