// A realistic report for the writer tests: the shape `cryptgate check capture` produces
// for a three-node cluster with one clear-text repository flow, one non-node flow, a
// passing ESP-NULL check, a skipped IKE check and an errored check.
import { REPORT_SCHEMA_ID, summarise, verdictOf, type Check, type Report } from '../../../src/report/model.js';

export const CAPTURE = 'captures/switch.pcapng';
export const CAPTURE_SHA = 'a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

export function sampleChecks(): Check[] {
  return [
    {
      id: 'ipsec.esp-only',
      title: 'All traffic between cluster nodes travels inside IPsec ESP',
      behaviour: ['IPSEC-5', 'IPSEC-6'],
      status: 'fail',
      severity: 'critical',
      findings: [
        {
          message: 'Traffic with a non-node endpoint (not judged): UDP 10.0.0.11 → 10.0.0.1:53 (DNS): 4 packets, 312 B in clear text',
          severity: 'info',
          evidence: { src: '10.0.0.11', dst: '10.0.0.1', protocol: 'udp', dstPort: 53, packets: 4, bytes: 312, firstSeen: '2026-03-01T10:00:00.000000Z', lastSeen: '2026-03-01T10:00:01.000000Z', service: 'DNS', nonNode: true },
        },
        {
          message: 'Plaintext between nodes: TCP 10.0.0.11 → 10.0.0.12:8060 (repository (PostgreSQL)): 120 packets, 48.0 KiB in clear text',
          evidence: { src: '10.0.0.11', dst: '10.0.0.12', protocol: 'tcp', dstPort: 8060, packets: 120, bytes: 49152, firstSeen: '2026-03-01T10:00:00.000000Z', lastSeen: '2026-03-01T10:05:00.000000Z', service: 'repository (PostgreSQL)' },
        },
      ],
      observed: [
        { nodeA: '10.0.0.11', nodeB: '10.0.0.12', espPackets: 900, espBytes: 800000, ikePackets: 4, plaintextPackets: 120, plaintextBytes: 49152, ahOnlyPackets: 0, decryptedCopies: 0, controlPackets: 2 },
        { nodeA: '10.0.0.11', nodeB: '10.0.0.13', espPackets: 100, espBytes: 90000, ikePackets: 4, plaintextPackets: 0, plaintextBytes: 0, ahOnlyPackets: 0, decryptedCopies: 0, controlPackets: 0 },
      ],
      remediation: 'Add or fix the server-to-server connection security rule on both nodes of each listed pair.',
    },
    {
      id: 'ipsec.no-esp-null',
      title: 'ESP between nodes encrypts (no integrity-only ESP-NULL)',
      behaviour: ['IPSEC-4'],
      status: 'pass',
      severity: 'critical',
      findings: [],
      observed: [
        { nodeA: '10.0.0.11', nodeB: '10.0.0.12', flows: 2, encrypted: 2, espNull: 0, unsure: 0, packets: 900 },
        { nodeA: '10.0.0.11', nodeB: '10.0.0.13', flows: 2, encrypted: 2, espNull: 0, unsure: 0, packets: 100 },
      ],
      remediation: 'Require encryption in the quick-mode settings.',
    },
    {
      id: 'ipsec.ike-policy',
      title: 'IKE key exchange uses the configured strength',
      behaviour: ['IPSEC-3'],
      status: 'skip',
      severity: 'high',
      findings: [{ message: 'No IKE SA negotiation between nodes in the capture', severity: 'info', evidence: { ikeMessages: 0 } }],
      observed: [],
    },
    {
      id: 'capture.evidence',
      title: 'The capture evidence was read completely',
      behaviour: ['IPSEC-5'],
      status: 'error',
      severity: 'medium',
      findings: [{ message: `Evidence incomplete: ${CAPTURE} is cut short`, severity: 'medium', evidence: { file: CAPTURE, offset: 4096, packetsJudged: 1020 } }],
      observed: [
        { file: CAPTURE, format: 'pcapng', compressed: false, packets: 1030, bytes: 900000, linkTypes: [1], interfaces: 1, truncated: true },
        { file: '(all)', format: 'totals', compressed: false, packets: 1030, bytes: 900000, linkTypes: [], interfaces: 0, truncated: true },
      ],
    },
  ];
}

export function sampleReport(checks: Check[] = sampleChecks()): Report {
  return {
    schema: REPORT_SCHEMA_ID,
    tool: { name: 'cryptgate', version: '0.1.0' },
    generatedAt: '2026-03-01T10:06:00.000Z',
    verdict: verdictOf(checks),
    inputs: [
      { path: CAPTURE, sha256: CAPTURE_SHA, bytes: 900000, format: 'pcapng', linkTypes: [1] },
      { path: 'captures/node2.pcap', sha256: '', bytes: 24, format: 'pcap (microsecond)', linkTypes: [1, 113] },
    ],
    checks,
    summary: summarise(checks),
    context: { command: 'check capture', nodes: ['10.0.0.11', '10.0.0.12', '10.0.0.13'], policy: 'built-in default' },
  };
}

/** A passing report (every check pass). */
export function passingReport(): Report {
  const checks = sampleChecks().filter((c) => c.id === 'ipsec.no-esp-null');
  return sampleReport(checks);
}
