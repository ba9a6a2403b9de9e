// Which scenarios a KMS backend can reproduce. A scenario states what it needs of the KMS
// with tags (@needs-disabled-keys, …); a backend that lacks it (moto ignores disabled keys
// and key policies, LocalStack evaluates no policy, …: src/kms/capabilities.ts) makes the
// scenario "not reproducible on <backend>" — reported as such, never as a pass, never
// silently dropped. Pure: the Before hook in steps/ asks, scenario-report.ts reports.
import type { KmsCapabilities } from '../kms/capabilities.js';

/** What a run's KMS can do, as the scenarios' requirements see it. */
export interface KmsRunFacts {
  /** How reports name the backend: `embedded`, `moto`, `localstack` or the URL given. */
  backend: string;
  capabilities: Readonly<KmsCapabilities>;
  /**
   * The simulated nodes can sign as separate IAM instance roles, each with its own policy.
   * Only the in-process embedded KMS maps access keys to roles; an endpoint gets one identity.
   */
  perNodeRoles: boolean;
}

export interface Requirement {
  /** The tag a scenario carries, e.g. `@needs-disabled-keys`. */
  tag: string;
  /** What the scenario needs, in a reviewer's words. */
  needs: string;
  met(facts: KmsRunFacts): boolean;
  /** Why a backend without it cannot reproduce the scenario. */
  why: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  {
    tag: '@needs-disabled-keys',
    needs: 'a Disabled or PendingDeletion CMK refuses GenerateDataKey and Decrypt',
    met: (f) => f.capabilities.disabledKeysRefuse,
    why: 'its KMS still encrypts and decrypts with a Disabled or PendingDeletion CMK (no DisabledException, no KMSInvalidStateException)',
  },
  {
    tag: '@needs-rotation-material',
    needs: 'RotateKeyOnDemand makes new key material while old ciphertexts still decrypt',
    met: (f) => f.capabilities.rotationChangesMaterial,
    why: 'RotateKeyOnDemand only records a rotation there and keeps the key material, so old data still decrypting would prove nothing',
  },
  {
    tag: '@needs-key-policy',
    needs: 'key policies and IAM policies are evaluated for every call',
    met: (f) => f.capabilities.keyPolicyEnforced,
    why: 'its KMS does not evaluate key or IAM policies for GenerateDataKey and Decrypt, so no policy can refuse a node',
  },
  {
    tag: '@needs-node-roles',
    needs: 'each node signs as its own IAM instance role, whose policy the KMS evaluates',
    met: (f) => f.perNodeRoles && f.capabilities.keyPolicyEnforced,
    why: 'the nodes cannot sign as separate IAM instance roles there (every node is one identity, and role policies are not evaluated)',
  },
  {
    tag: '@needs-request-counters',
    needs: "the KMS counts requests per operation and per caller (what CloudTrail would show)",
    met: (f) => f.capabilities.requestCounters,
    why: "it has no per-operation, per-caller request counters to count a command's KMS requests",
  },
  {
    tag: '@needs-list-key-rotations',
    needs: 'ListKeyRotations answers',
    met: (f) => f.capabilities.listKeyRotations,
    why: 'ListKeyRotations is not implemented there',
  },
];

export interface Unmet {
  tag: string;
  backend: string;
  why: string;
}

/** The requirements among `tags` that the backend does not meet. Throws on an unknown @needs- tag (a typo must not skip a scenario). */
export function unmetRequirements(tags: readonly string[], facts: KmsRunFacts): Unmet[] {
  const out: Unmet[] = [];
  for (const tag of tags) {
    if (!tag.startsWith('@needs-')) continue;
    const r = REQUIREMENTS.find((x) => x.tag === tag);
    if (!r) throw new Error(`unknown requirement tag ${tag}: expected one of ${REQUIREMENTS.map((x) => x.tag).join(', ')}`);
    if (!r.met(facts)) out.push({ tag, backend: facts.backend, why: r.why });
  }
  return out;
}

/** The finding message of a scenario a backend cannot reproduce. */
export function notReproducibleMessage(u: Pick<Unmet, 'backend' | 'why'>): string {
  return `not reproducible on ${u.backend}: ${u.why}`;
}
