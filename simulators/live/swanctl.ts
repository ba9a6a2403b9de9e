// The plan, translated into what each node's charon reads: swanctl.conf (connections and
// pre-shared keys) and strongswan.conf (plugins, log, sockets). Pure text generation, so a
// reviewer (and the unit tests) can read exactly what ran on every node.
//
// How each pair outcome becomes strongSwan configuration:
//  - 'esp': a connection on both sides with the chosen IKE and ESP proposals; a initiates.
//  - 'plaintext': no connection (the traffic is simply not covered), except that a side
//    with a "request" rule and no partner has one, so it tries IKE, gets refused and then
//    talks in clear.
//  - 'fail': 'no-common-proposal' gives the sides disjoint proposal lists; 'authentication'
//    gives them different pre-shared keys (the live stand-in for a certificate from the
//    wrong authority: IKE_AUTH fails the same way); 'no-peer-rule' configures a only;
//    'clear-dropped' configures neither. Dropping clear traffic on the requiring sides and
//    the silence of a node without a rule are policy routing (policy-routing.ts).
//
// kernel-libipsec (userspace ESP: this kernel has no XFRM) imposes two things on every
// connection: tunnel mode with host /32 selectors (it has no transport mode) and UDP
// encapsulation (encap = yes), so ESP always travels on UDP 4500.
import { describeEsp, describeIke, hasConnection, offerOf, type LivePair, type LivePlan } from './plan.js';
import { espProposal, ikeProposal } from './proposals.js';

/** Mark on charon's own IKE and ESP-in-UDP packets, so they bypass the routes into the TUN device. */
export const CHARON_FWMARK = '0x4500';

/** Plugins charon loads: crypto (kdf does the PRF+ key derivation since strongSwan 5.9.8; openssl brings 3DES and the EC groups), sockets, userspace IPsec, vici. */
export const CHARON_PLUGINS = [
  'random', 'nonce', 'openssl', 'aes', 'sha1', 'sha2', 'md5', 'hmac', 'gmp', 'kdf', 'gcm', 'xcbc',
  'pem', 'pkcs1', 'x509', 'pubkey', 'socket-default', 'kernel-libipsec', 'kernel-netlink', 'vici',
] as const;

/** Plugins swanctl needs to parse its configuration. */
const SWANCTL_PLUGINS = ['random', 'openssl', 'pem', 'pkcs1', 'x509', 'pubkey'] as const;

export type Side = 'a' | 'b';

/** Pre-shared key of one side of a pair (a pure function of the run's secrets). */
export type PskSource = (pair: LivePair, side: Side) => string;

/** swanctl section name of a pair: strongSwan's settings use '.' as a separator, so none of it. */
export function connectionName(pair: LivePair): string {
  return `${pair.a}-${pair.b}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function ipOf(plan: LivePlan, name: string): string {
  const node = plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`live plan: no node "${name}"`); // validateLivePlan rules this out
  return node.ip;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function summary(pair: LivePair): string {
  const suites = [pair.ike ? describeIke(pair.ike) : undefined, pair.esp ? describeEsp(pair.esp) : undefined].filter(Boolean).join(' + ');
  switch (pair.outcome) {
    case 'esp':
      return `protected: ${suites}`;
    case 'plaintext':
      return pair.requestedBy ? `plain text after ${pair[pair.requestedBy]}'s "request" rule found no partner` : 'plain text: no rule covers this pair';
    case 'fail':
      if (pair.failure?.cause === 'clear-dropped') return `connections fail: ${pair.a} requires authentication and drops ${pair.b}'s clear packets; nobody starts IKE`;
      return `negotiation must fail (${pair.failure?.cause}${pair.failure?.detail ? `: ${pair.failure.detail}` : ''})`;
  }
}

function connectionBlock(plan: LivePlan, pair: LivePair, side: Side): string[] {
  const peerSide: Side = side === 'a' ? 'b' : 'a';
  const local = ipOf(plan, pair[side]);
  const remote = ipOf(plan, pair[peerSide]);
  const name = connectionName(pair);
  const offer = offerOf(pair, side);
  const field = `pairs ${pair.a}/${pair.b} (${side})`;
  const version = offer.ike[0]?.version ?? 2;
  const ike = offer.ike.map((s, i) => ikeProposal(s, `${field} ike[${i}]`));
  const esp = offer.esp.map((s, i) => espProposal(s, `${field} esp[${i}]`));
  const ikeLife = offer.ike[0]?.lifetimeSeconds;
  const childLife = offer.esp[0]?.lifetimeSeconds;
  const childKb = offer.esp[0]?.lifetimeKilobytes;
  const lines = [
    `  # ${pair.a} <-> ${pair.b}: ${summary(pair)}`,
    `  ${name} {`,
    `    version = ${version}`,
    `    local_addrs = ${local}`,
    `    remote_addrs = ${remote}`,
    `    proposals = ${ike.join(', ')}`,
    '    # kernel-libipsec does ESP in UDP only (RFC 3948); NAT traversal is forced',
    '    encap = yes',
  ];
  if (ikeLife !== undefined) lines.push(`    ${version === 1 ? 'reauth_time' : 'rekey_time'} = ${ikeLife}s`);
  lines.push(
    '    local {',
    '      auth = psk',
    `      id = ${local}`,
    '    }',
    '    remote {',
    '      auth = psk',
    `      id = ${remote}`,
    '    }',
    '    children {',
    `      ${name} {`,
    '        # kernel-libipsec has no transport mode; /32 selectors make the tunnel host-to-host',
    '        mode = tunnel',
    `        esp_proposals = ${esp.join(', ')}`,
    `        local_ts = ${local}/32`,
    `        remote_ts = ${remote}/32`,
    '        start_action = none',
  );
  if (childLife !== undefined) lines.push(`        rekey_time = ${childLife}s`);
  if (childKb !== undefined) lines.push(`        rekey_bytes = ${childKb * 1024}`);
  lines.push('      }', '    }', '  }');
  return lines;
}

/** swanctl.conf of one node. Deterministic for a given plan and key source. */
export function swanctlConf(plan: LivePlan, nodeName: string, psk: PskSource): string {
  const node = plan.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`live plan: no node "${nodeName}"`);
  const mine = plan.pairs.flatMap((pair) =>
    (['a', 'b'] as const).filter((side) => pair[side] === nodeName && hasConnection(pair, side)).map((side) => ({ pair, side })),
  );
  const uncovered = plan.pairs.filter((p) => (p.a === nodeName || p.b === nodeName) && !hasConnection(p, p.a === nodeName ? 'a' : 'b'));
  const out = [`# swanctl.conf of node ${nodeName} (${node.ip}), generated by the cryptgate live wire from its plan`];
  for (const p of uncovered) out.push(`# ${p.a} <-> ${p.b}: no connection on this node (${summary(p)})`);
  out.push('connections {');
  for (const { pair, side } of mine) out.push(...connectionBlock(plan, pair, side));
  out.push('}', 'secrets {');
  for (const { pair, side } of mine) {
    out.push(
      `  ike-${connectionName(pair)} {`,
      `    id-1 = ${ipOf(plan, pair.a)}`,
      `    id-2 = ${ipOf(plan, pair.b)}`,
      `    secret = ${quote(psk(pair, side))}`,
      '  }',
    );
  }
  out.push('}', '');
  return out.join('\n');
}

export interface CharonPaths {
  log: string;
  vici: string;
}

/** strongswan.conf of one node's charon (and of swanctl talking to it). */
export function strongswanConf(paths: CharonPaths): string {
  return [
    '# strongswan.conf of one live-wire node, generated by cryptgate',
    'charon {',
    '  load_modular = no',
    `  load = ${CHARON_PLUGINS.join(' ')}`,
    '  # a peer that does not answer is given up quickly (failed negotiations are part of the plan)',
    '  retransmit_tries = 2',
    '  retransmit_timeout = 1.0',
    '  filelog {',
    '    log {',
    `      path = ${paths.log}`,
    '      time_format = %T',
    "      # each line carries its IKE SA's connection name, so a pair's story can be told apart",
    '      ike_name = yes',
    '      # line-buffered: the runner reads the logs while charon runs',
    '      flush_line = yes',
    '      default = 1',
    '      ike = 2',
    '      cfg = 2',
    '      knl = 1',
    '      esp = 1',
    '    }',
    '  }',
    '  syslog {',
    '    daemon {',
    '      default = -1',
    '    }',
    '  }',
    '  plugins {',
    '    vici {',
    `      socket = unix://${paths.vici}`,
    '    }',
    "    # IKE and ESP-in-UDP leave charon's sockets with this mark ...",
    '    socket-default {',
    `      fwmark = ${CHARON_FWMARK}`,
    '    }',
    '    # ... and skip routing table 220, whose /32 route to the peer points into the TUN device',
    '    kernel-netlink {',
    `      fwmark = !${CHARON_FWMARK}`,
    '    }',
    '    kernel-libipsec {',
    '      allow_peer_ts = yes',
    '    }',
    '  }',
    '}',
    'swanctl {',
    `  load = ${SWANCTL_PLUGINS.join(' ')}`,
    '}',
    '',
  ].join('\n');
}
