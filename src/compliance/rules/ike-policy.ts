// ipsec.ike-policy (IPSEC-3): the key exchange used the configured strength. Judged on
// each negotiated IKE SA: the responder's single chosen proposal is what was negotiated.
// Only phase 1 / IKE_SA_INIT is clear on the wire, so this is where strength shows.
import type { Check, Finding } from '../../report/model.js';
import type { IkeObservation } from '../../capture/facts.js';
import { suiteNames, type SuiteNames } from '../../capture/ike-suite.js';
import { AEAD_CIPHER, type IkePolicy } from '../policy.js';
import { assembleIkeSas, type IkeSaRecord } from '../ike-sas.js';
import { isoTime, makeCheck, markSkipped, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';

export const IKE_POLICY = 'ipsec.ike-policy';
export const IKE_POLICY_META: CheckMeta = { id: IKE_POLICY, title: 'IKE key exchange uses the configured strength', behaviour: ['IPSEC-3'], severity: 'high' };

/** What is wrong with a suite under the policy; empty when it complies. */
export function suiteProblems(s: SuiteNames, policy: IkePolicy): string[] {
  const problems: string[] = [];
  const enc = policy.encryption.find((e) => e.name === s.encryption);
  if (!enc) {
    problems.push(`encryption ${s.encryption} is not allowed (allowed: ${policy.encryption.map((e) => `${e.name}${e.keyLengths ? `-${e.keyLengths.join('/')}` : ''}`).join(', ')})`);
  } else if (enc.keyLengths && (s.keyLength === null || !enc.keyLengths.includes(s.keyLength))) {
    problems.push(`${s.encryption} key length ${s.keyLength ?? 'missing'} is not allowed (allowed: ${enc.keyLengths.join(', ')})`);
  }
  const aead = AEAD_CIPHER.test(s.encryption);
  if (s.integrity === 'NONE') {
    if (!aead) problems.push(`no integrity algorithm with non-AEAD encryption ${s.encryption}`);
  } else if (!policy.integrity.includes(s.integrity)) {
    problems.push(`integrity ${s.integrity} is not allowed (allowed: ${policy.integrity.join(', ')})`);
  }
  if (!policy.prf.includes(s.prf)) problems.push(`PRF ${s.prf} is not allowed (allowed: ${policy.prf.join(', ')})`);
  if (s.dhGroup === null) problems.push('no Diffie-Hellman group negotiated');
  else if (s.dhGroup < policy.minDhGroup || policy.forbiddenDhGroups.includes(s.dhGroup)) {
    problems.push(`Diffie-Hellman group ${s.dhGroup} is too weak (need ≥ ${policy.minDhGroup}, not ${policy.forbiddenDhGroups.join('/')})`);
  }
  return problems;
}

function saEvidence(sa: IkeSaRecord, s: SuiteNames | undefined): Record<string, unknown> {
  return {
    initiator: sa.initiator,
    responder: sa.responder,
    ikeVersion: sa.ikeVersion,
    mode: sa.mode,
    encryption: s?.encryption ?? null,
    keyLength: s?.keyLength ?? null,
    integrity: s?.integrity ?? null,
    prf: s?.prf ?? null,
    dhGroup: s?.dhGroup ?? null,
    spiI: sa.spiI,
    firstSeen: isoTime(sa.firstSeen),
    file: sa.file,
  };
}

export function ikePolicyCheck(ike: readonly IkeObservation[], ctx: RuleContext, isNode: (address: string) => boolean): Check {
  const sas = assembleIkeSas(ike).filter((sa) => isNode(sa.initiator) || isNode(sa.responder));
  const policy = ctx.policy.ike;
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const sa of sas) {
    const chosen = sa.chosen ? suiteNames(sa.ikeVersion, sa.chosen) : undefined;
    const evidence = saEvidence(sa, chosen);
    observed.push({ ...evidence, status: sa.status });
    const who = `${sa.initiator} → ${sa.responder} (IKEv${sa.ikeVersion} ${sa.mode})`;
    if (sa.status === 'negotiated' && chosen) {
      const problems = suiteProblems(chosen, policy);
      if (problems.length > 0) {
        findings.push(withWaiver(ctx, IKE_POLICY, { message: `Weak IKE SA ${who}: ${problems.join('; ')}`, evidence: { ...evidence, problems } }));
      }
      // A strong choice is fine, but weak alternatives on offer invite a downgrade.
      const chosenKey = JSON.stringify(chosen);
      const weakOffers = sa.offered
        .map((p) => suiteNames(sa.ikeVersion, p))
        .filter((s) => JSON.stringify(s) !== chosenKey && suiteProblems(s, policy).length > 0);
      if (weakOffers.length > 0) {
        findings.push({
          message: `${sa.initiator} also offers ${weakOffers.length} weak IKE proposal(s) to ${sa.responder}: ${weakOffers.map((s) => `${s.encryption}${s.keyLength ? `-${s.keyLength}` : ''}/${s.integrity}/${s.prf}/group ${s.dhGroup}`).join(', ')}`,
          severity: 'info',
          evidence: { ...evidence, weakOffers },
        });
      }
    } else if (sa.status === 'no-proposal-chosen') {
      findings.push(
        withWaiver(ctx, IKE_POLICY, {
          message: `IKE negotiation ${who} failed: NO_PROPOSAL_CHOSEN (the two nodes' main-mode crypto sets share no proposal)`,
          severity: 'high',
          evidence: { ...evidence, offered: sa.offered.map((p) => suiteNames(sa.ikeVersion, p)) },
        }),
      );
    } else if (sa.status === 'unreadable') {
      findings.push({ message: `IKE negotiation ${who} could not be read: ${sa.problem ?? 'unknown reason'}`, severity: 'medium', evidence: { ...evidence, problem: sa.problem } });
    }
  }
  const negotiated = sas.filter((sa) => sa.status === 'negotiated').length;
  const check = makeCheck({
    ...IKE_POLICY_META,
    findings,
    observed,
    remediation:
      'In the IPsec defaults, Key Exchange (main mode): use SHA-256 integrity, AES-CBC 256 encryption and a Diffie-Hellman group of 14 or stronger (not 22-24), and remove weaker methods from the list on every node.',
  });
  if (negotiated === 0 && check.status === 'pass') {
    markSkipped(check, 'No IKE SA negotiation between nodes in the capture (the SAs were set up before it started): capture across an IPsec restart or rekey to judge the key exchange', { ikeMessages: ike.length });
  }
  return check;
}
