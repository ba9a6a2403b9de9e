// The one door the IPsec steps use: "put this plan's traffic on a wire and give me the
// capture". With `wire: 'strongswan'` it runs real strongSwan in network namespaces when
// this machine can; when it cannot, it says why (returned, and printed once on stderr) and
// uses the simulated wire through the caller's callback. It never falls back silently, and
// it never falls back from a live run that started and then broke: that is an error.
import { liveWireAvailability, type LiveTools, type LiveWireAvailability } from './availability.js';
import { liveUnsupported, validateLivePlan, type LivePlan } from './plan.js';
import { runLiveWire, type LiveRunResult } from './live-wire.js';
import type { WireMode } from './wire-mode.js';

export interface CaptureTrafficOptions {
  wire: WireMode;
  /** The scenario's evidence folder. */
  evidenceDir: string;
  seed: number | string;
  /** Writes the simulated wire's capture for the same plan; returns its path. */
  simulate: () => Promise<string>;
  /** Base name of the live evidence files (default 'live-wire'). */
  name?: string;
  /** Capture format of the live run (default pcap). */
  format?: 'pcap' | 'pcapng';
  /** Where the fallback notice goes (default: stderr, once per distinct reason). */
  notify?: (line: string) => void;
  /** Progress lines of the live run. */
  log?: (line: string) => void;
  /** For tests: the capability answer to use. */
  availability?: () => LiveWireAvailability;
}

export interface CaptureTrafficResult {
  capturePath: string;
  mode: WireMode;
  /** Set when strongswan was asked for and the simulated wire ran instead. */
  fallbackReason?: string;
  /** What the live run did (SAs, flows, logs), when it ran. */
  live?: LiveRunResult;
}

const noticed = new Set<string>();
function stderrOnce(line: string): void {
  if (noticed.has(line)) return;
  noticed.add(line);
  process.stderr.write(`${line}\n`);
}

/** Where live mode can run this plan: the tools to run it with, or why not. */
function decide(plan: LivePlan, availability: () => LiveWireAvailability): { tools: LiveTools } | { reason: string } {
  const avail = availability();
  if (!avail.ok) return { reason: avail.why };
  const unsupported = liveUnsupported(plan);
  return unsupported.length ? { reason: unsupported.join('; ') } : { tools: avail.tools };
}

export async function captureClusterTraffic(plan: LivePlan, options: CaptureTrafficOptions): Promise<CaptureTrafficResult> {
  if (options.wire === 'simulated') return { capturePath: await options.simulate(), mode: 'simulated' };
  validateLivePlan(plan);
  const d = decide(plan, options.availability ?? liveWireAvailability);
  if ('reason' in d) {
    (options.notify ?? stderrOnce)(`cryptgate: live wire (strongSwan) not used: ${d.reason}; this scenario runs on the simulated wire`);
    return { capturePath: await options.simulate(), mode: 'simulated', fallbackReason: d.reason };
  }
  const live = await runLiveWire(plan, {
    tools: d.tools, evidenceDir: options.evidenceDir, seed: options.seed, name: options.name, format: options.format, log: options.log,
  });
  return { capturePath: live.capturePath, mode: 'strongswan', live };
}

export { WIRE_MODES, type WireMode } from './wire-mode.js';
export { liveWireAvailability, assessLiveWire, type LiveWireAvailability, type LiveTools, type ProbeEnvironment } from './availability.js';
export { runLiveWire, liveNotes, type LiveRunOptions, type LiveRunResult, type PairResult } from './live-wire.js';
export { swanctlConf, strongswanConf, connectionName } from './swanctl.js';
export { livePlanFromNegotiation, type PlannedFlow, type PlannedHost } from './from-negotiation.js';
export { ikeProposal, espProposal } from './proposals.js';
export {
  clusterFlows, liveUnsupported, validateLivePlan,
  type EspSuite, type FailureCause, type IkeSuite, type LiveFlow, type LiveNode, type LivePair, type LivePlan, type PairOutcome,
} from './plan.js';
export type { FlowResult } from './traffic.js';
