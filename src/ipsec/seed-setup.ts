// The set-up the seed document walks through, as a policy model: on every node one
// server-to-server connection security rule (endpoint 1 = this node, endpoint 2 = every other
// node), "Require authentication for inbound and outbound connections", a computer
// certificate from the cluster's CA, all profiles; IPsec defaults customised to SHA-256 /
// AES-CBC 256 / a strong Diffie-Hellman group and "require encryption" with AES-CBC 256 first.
// Scenarios, tests and the benchmark start from it and change what they want to break.
import {
  seedMainMode, seedQuickMode, type AuthMethod, type ClusterIpsecPolicy, type ConnectionSecurityRule, type KeyModule, type NodeIpsecPolicy,
} from './policy-model.js';

export interface NodeAddress {
  name: string;
  address: string;
}

export interface SeedSetupOptions {
  /** The certification authority every node's computer certificate comes from. */
  caName?: string;
  /** Authenticate with computer certificates (default) or Kerberos (all nodes in `domain`). */
  authentication?: 'certificate' | 'kerberos';
  domain?: string;
  keyModule?: KeyModule;
  ruleName?: string;
}

export const SEED_RULE_NAME = 'Cluster nodes: require IPsec';
export const SEED_CA_NAME = 'Cluster Root CA';

export function seedRule(self: NodeAddress, others: readonly NodeAddress[], o: SeedSetupOptions = {}): ConnectionSecurityRule {
  const auth: AuthMethod[] = o.authentication === 'kerberos'
    ? [{ kind: 'computer-kerberos' }]
    : [{ kind: 'computer-certificate', caName: o.caName ?? SEED_CA_NAME, signing: 'RSA' }];
  return {
    name: o.ruleName ?? SEED_RULE_NAME,
    enabled: true,
    type: 'server-to-server',
    endpoint1: [self.address],
    endpoint2: others.map((n) => n.address),
    inbound: 'require',
    outbound: 'require',
    authentication: auth,
    profiles: ['domain', 'private', 'public'],
    protocol: 'any',
    endpoint1Ports: [],
    endpoint2Ports: [],
    keyModule: o.keyModule ?? 'default',
  };
}

/** The seed's configuration on every node. */
export function seedSetupPolicy(nodes: readonly NodeAddress[], o: SeedSetupOptions = {}): ClusterIpsecPolicy {
  return {
    nodes: nodes.map((n): NodeIpsecPolicy => ({
      name: n.name,
      addresses: [n.address],
      activeProfile: 'domain',
      rules: [seedRule(n, nodes.filter((m) => m !== n), o)],
      defaults: {
        mainMode: seedMainMode(),
        quickMode: seedQuickMode(),
        authentication: [{ kind: 'computer-kerberos' }],
      },
      credentials: {
        certificateIssuers: [o.caName ?? SEED_CA_NAME],
        kerberosDomain: o.domain ?? 'cluster.example',
      },
    })),
  };
}

/** The named node (throws a clear error naming the known nodes). */
export function nodeNamed(policy: ClusterIpsecPolicy, name: string): NodeIpsecPolicy {
  const n = policy.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node "${name}" in the policy (nodes: ${policy.nodes.map((x) => x.name).join(', ')})`);
  return n;
}
