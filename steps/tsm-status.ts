// `tsm status -v` text as the simulated cluster writes it (simulators/cluster/status-text.ts)
// and Tableau prints it: the overall status, then per node its status and each service's
// state with the reason it is in error. Read by the KMS and the IPsec steps.

export interface TsmServiceStatus {
  state: 'running' | 'stopped' | 'error';
  detail: string | null;
}

export interface TsmStatus {
  overall: string;
  /** node name → service title (e.g. "Tableau Server VizQL Server") → state. */
  nodes: Map<string, { status: string | null; services: Map<string, TsmServiceStatus> }>;
}

/**
 *   Status: DEGRADED
 *
 *   node2: node2.ec2.internal
 *       Status: DEGRADED
 *       'Tableau Server VizQL Server 0' is in an error state. <why>
 */
export function parseTsmStatus(text: string, file: string): TsmStatus {
  const out: TsmStatus = { overall: '', nodes: new Map() };
  let node: { status: string | null; services: Map<string, TsmServiceStatus> } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    let m = /^Status: (\S+)$/.exec(line);
    if (m) {
      out.overall = m[1]!;
      return;
    }
    m = /^(\S+): \S+$/.exec(line);
    if (m) {
      node = { status: null, services: new Map() };
      out.nodes.set(m[1]!, node);
      return;
    }
    if (!node) throw new Error(`${file}: line ${i + 1}: expected 'Status: …' or a node line before '${line.trim()}'`);
    m = /^\s+Status: (\S+)$/.exec(line);
    if (m) {
      node.status = m[1]!;
      return;
    }
    m = /^\s+'(.+?) \d+' (is running|is stopped|is in an error state)\.(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`${file}: line ${i + 1}: expected "'<service> <n>' is running|is stopped|is in an error state.", found '${line.trim()}'`);
    const state = m[2] === 'is running' ? 'running' : m[2] === 'is stopped' ? 'stopped' : 'error';
    node.services.set(m[1]!, { state, detail: m[3] ?? null });
  });
  if (out.overall === '') throw new Error(`${file}: expected a 'Status: …' line`);
  return out;
}
