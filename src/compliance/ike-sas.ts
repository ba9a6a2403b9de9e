// Pairs up IKE messages into IKE SA negotiations: the initiator's offer and the
// responder's single chosen proposal (RFC 7296 §3.3.6; RFC 2409 main mode message 2).
import type { IkeMessage, IkeProposal } from '../capture/ike.js';
import type { IkeObservation } from '../capture/facts.js';

export type IkeSaStatus = 'negotiated' | 'no-proposal-chosen' | 'invalid-ke' | 'no-response' | 'unreadable';

export interface IkeSaRecord {
  initiator: string;
  responder: string;
  ikeVersion: 1 | 2;
  /** IKEv1 exchange name: main, aggressive, authip; IKEv2: ike_sa_init. */
  mode: string;
  spiI: string;
  offered: IkeProposal[];
  chosen?: IkeProposal;
  status: IkeSaStatus;
  /** Why the proposal could not be read (snaplen cut, malformed payload). */
  problem?: string;
  firstSeen: number;
  file: string;
}

const NOTIFY_NO_PROPOSAL_CHOSEN = 14;
const NOTIFY_INVALID_KE_PAYLOAD = 17;
const V1_EXCHANGES_WITH_SA = new Set([2, 4, 243]);
const V1_INFORMATIONAL = 5;

function modeOf(m: IkeMessage): string {
  if (m.version === 2) return 'ike_sa_init';
  if (m.exchange === 2) return 'main';
  if (m.exchange === 4) return 'aggressive';
  return 'authip';
}

/**
 * IKEv2: every IKE_SA_INIT message. IKEv1/AuthIP: only the messages that carry the SA
 * payload (main mode 1 and 2, aggressive 1 and 2): later main-mode messages from the
 * initiator also carry SPIr and would otherwise read as responses. A message cut short
 * before its payloads could be read is kept, so it is reported as unreadable.
 */
function carriesSa(m: IkeMessage): boolean {
  if (m.version === 2) return m.exchange === 34;
  return V1_EXCHANGES_WITH_SA.has(m.exchange) && !m.encrypted && (m.proposals.length > 0 || m.truncated);
}

/** IKEv1/AuthIP: a clear Informational exchange refusing every proposal (RFC 2408 §4.8). */
function isV1Refusal(m: IkeMessage): boolean {
  return m.version === 1 && m.exchange === V1_INFORMATIONAL && !m.encrypted && m.notifies.includes(NOTIFY_NO_PROPOSAL_CHOSEN);
}

/** Builds one record per IKE SA negotiation seen (keyed by the initiator's SPI and endpoints). */
export function assembleIkeSas(observations: readonly IkeObservation[]): IkeSaRecord[] {
  const records = new Map<string, IkeSaRecord>();
  for (const obs of observations) {
    const m = obs.message;
    if (isV1Refusal(m)) {
      // Sent by the responder in clear (no keys exist yet), often with SPIr still zero, so
      // the SPIs cannot say who sent it: the endpoints of the offer it answers do.
      const rec = records.get(`${m.spiI}|${obs.dst}|${obs.src}`);
      if (rec && rec.status !== 'negotiated') rec.status = 'no-proposal-chosen';
      continue;
    }
    if (!carriesSa(m)) continue;
    const isInitiatorMessage = m.version === 2 ? !m.response : /^0+$/.test(m.spiR);
    const initiator = isInitiatorMessage ? obs.src : obs.dst;
    const responder = isInitiatorMessage ? obs.dst : obs.src;
    const key = `${m.spiI}|${initiator}|${responder}`;
    let rec = records.get(key);
    if (!rec) {
      rec = { initiator, responder, ikeVersion: m.version, mode: modeOf(m), spiI: m.spiI, offered: [], status: 'no-response', firstSeen: obs.ts, file: obs.file };
      records.set(key, rec);
    }
    const unreadable = m.malformed ?? (m.truncated && m.proposals.length === 0 ? 'message cut short by the capture snaplen' : undefined);
    if (isInitiatorMessage) {
      if (m.proposals.length > 0) rec.offered = m.proposals;
      else if (unreadable && rec.status === 'no-response') rec.problem = unreadable;
      continue;
    }
    if (m.notifies.includes(NOTIFY_NO_PROPOSAL_CHOSEN)) {
      rec.status = 'no-proposal-chosen';
    } else if (m.notifies.includes(NOTIFY_INVALID_KE_PAYLOAD) && m.proposals.length === 0) {
      // The initiator retries with the group the responder wants; a later response settles it.
      if (rec.status !== 'negotiated') rec.status = 'invalid-ke';
    } else if (m.proposals.length > 0) {
      rec.chosen = m.proposals[0];
      rec.status = 'negotiated';
      delete rec.problem;
    } else if (unreadable) {
      rec.status = 'unreadable';
      rec.problem = unreadable;
    }
  }
  return [...records.values()];
}
