// The IKE messages two nodes exchange for one negotiation plan (src/ipsec/negotiate.ts),
// in order, with who sends each and when: IKEv2 IKE_SA_INIT + IKE_AUTH, or IKEv1/AuthIP
// main mode (6 messages) + quick mode (3), and the ways each can stop (no answer,
// NO_PROPOSAL_CHOSEN, AUTHENTICATION_FAILED, a child SA refused). The clear-text SA
// payloads carry exactly the proposals the plan offered and chose, which is what
// `cryptgate check capture` judges; the encrypted messages are the size a real peer sends,
// filled from the seeded stream, as an observer sees them.
import {
  DH_PUBLIC_VALUE_BYTES, EXCHANGE, IKEV1_AUTH_METHOD, IKEV1_ENCR, NOTIFY, PAYLOAD_V1, PAYLOAD_V2, TRANSFORM_TYPE,
} from '../../src/capture/ike-ids.js';
import { ikeTransformIds, type IanaIkeSuite } from '../../src/ipsec/iana.js';
import type { IkePlan } from '../../src/ipsec/negotiate.js';
import type { AuthMethod } from '../../src/ipsec/policy-model.js';
import {
  authIpMainMode, FLAG, IKEV1_VERSION, IKEV2_VERSION, ikeMessage, ikev1SaBody, ikev2SaInitErrorResponse, ikev2SaInitRequest,
  ikev2SaInitResponse, invalidKeData, msNt5Vid, natDetectionHash, newSpi, VENDOR_ID, type Ikev1Suite, type Ikev2Proposal, type IkePayload,
} from './ike.js';
import type { SeededRandom } from './seeded-random.js';

/** One IKE datagram to put on the wire. */
export interface IkeDatagram {
  /** Nanoseconds after the exchange starts. */
  at: number;
  fromInitiator: boolean;
  /** On 4500 behind the non-ESP marker (after NAT detection, RFC 3948 / RFC 7296 §2.23). */
  natPort: boolean;
  message: Buffer;
}

export interface IkeEndpoints {
  initiator: string;
  responder: string;
  /** Force UDP encapsulation (as strongSwan's encap=yes or Windows' AssumeUDPEncapsulationContextOnSendRule do). */
  natTraversal: boolean;
  /** Capture length in ns: retransmissions stop there. */
  horizon: number;
}

const MS = 1_000_000;
const SEC = 1_000_000_000;
/** Retransmission back-off of an unanswered first message (Windows and strongSwan both double from ~1 s). */
const RETRANSMIT = [0, 1 * SEC, 3 * SEC, 7 * SEC, 15 * SEC, 31 * SEC];

function ikev2Proposals(suites: readonly IanaIkeSuite[]): Ikev2Proposal[] {
  return suites.map((s, i) => {
    const t = ikeTransformIds(s);
    return {
      number: i + 1,
      transforms: [
        { type: TRANSFORM_TYPE.ENCR, id: t.encr, ...(t.keyLength !== null ? { keyLength: t.keyLength } : {}) },
        { type: TRANSFORM_TYPE.PRF, id: t.prf },
        ...(t.integ !== null ? [{ type: TRANSFORM_TYPE.INTEG, id: t.integ }] : []),
        { type: TRANSFORM_TYPE.DH, id: t.dh },
      ],
    };
  });
}

function authMethodV1(m: AuthMethod | null): number {
  if (!m || m.kind === 'computer-certificate') {
    if (m?.kind === 'computer-certificate' && m.signing === 'ECDSA256') return IKEV1_AUTH_METHOD.ECDSA_SHA256_P256;
    if (m?.kind === 'computer-certificate' && m.signing === 'ECDSA384') return IKEV1_AUTH_METHOD.ECDSA_SHA384_P384;
    return IKEV1_AUTH_METHOD.RSA_SIGNATURES;
  }
  // Windows' IKEv1 Kerberos method: the private-use value 65001 (GSS-API Kerberos).
  return 65001;
}

function ikev1Suites(suites: readonly IanaIkeSuite[], auth: number, lifeSeconds: number): Ikev1Suite[] {
  return suites.map((s) => {
    const v1 = s.ikev1!;
    return {
      encryption: v1.encryption,
      ...(v1.keyLength !== null ? { keyLength: v1.keyLength } : {}),
      hash: v1.hash,
      authMethod: auth,
      group: s.dhGroup,
      lifeType: 1,
      lifeDuration: lifeSeconds,
    };
  });
}

const WINDOWS_VIDS = [msNt5Vid(9), VENDOR_ID.RFC3947_NAT_T, VENDOR_ID.NAT_T_DRAFT_02N, VENDOR_ID.IKE_FRAGMENTATION, VENDOR_ID.MS_NEGOTIATION_DISCOVERY, VENDOR_ID.IKE_CGA_V1];

/** A message whose body is ciphertext (random bytes of a realistic length). */
function sealedV2(rnd: SeededRandom, spiI: Buffer, spiR: Buffer, exchange: number, response: boolean, messageId: number, firstInner: number, bodyLength: number): Buffer {
  return ikeMessage(
    { spiI, spiR, version: IKEV2_VERSION, exchange, flags: (response ? FLAG.V2_RESPONSE : FLAG.V2_INITIATOR), messageId },
    [{ type: PAYLOAD_V2.SK, body: rnd.bytes(bodyLength), next: firstInner }],
  );
}

function sealedV1(rnd: SeededRandom, spiI: Buffer, spiR: Buffer, exchange: number, messageId: number, firstPayload: number, bodyLength: number): Buffer {
  return ikeMessage(
    { spiI, spiR, version: IKEV1_VERSION, exchange, flags: FLAG.V1_ENCRYPTED, messageId, firstPayload },
    [],
    rnd.bytes(bodyLength),
  );
}

/** Sizes of encrypted bodies: certificate chains make IKE_AUTH / MM5-6 big, Kerberos tokens too. */
function authBodyLength(m: AuthMethod | null, rnd: SeededRandom): number {
  const base = m?.kind === 'computer-kerberos' ? 1200 : 1040;
  return 16 + (Math.floor((base + rnd.int(0, 160)) / 16) * 16) + 16;
}

/**
 * Every datagram of one negotiation attempt (and its retransmissions when unanswered),
 * ending where the plan says the negotiation ends.
 */
export function ikeExchange(plan: IkePlan, ends: IkeEndpoints, rnd: SeededRandom): IkeDatagram[] {
  return plan.keying === 'ikev2' ? ikev2Exchange(plan, ends, rnd) : ikev1Exchange(plan, ends, rnd);
}

function natNotifies(ends: IkeEndpoints, spiI: Buffer, spiR: Buffer, fromInitiator: boolean, rnd: SeededRandom): { type: number; data: Buffer }[] {
  const src = fromInitiator ? ends.initiator : ends.responder;
  const dst = fromInitiator ? ends.responder : ends.initiator;
  // Forced encapsulation fakes the source hash so the peer "detects" a NAT and moves to 4500.
  const srcHash = ends.natTraversal ? rnd.bytes(20) : natDetectionHash(spiI, spiR, src, 500);
  return [
    { type: NOTIFY.NAT_DETECTION_SOURCE_IP, data: srcHash },
    { type: NOTIFY.NAT_DETECTION_DESTINATION_IP, data: natDetectionHash(spiI, spiR, dst, 500) },
  ];
}

function ikev2Exchange(plan: IkePlan, ends: IkeEndpoints, rnd: SeededRandom): IkeDatagram[] {
  const out: IkeDatagram[] = [];
  const spiI = newSpi(rnd);
  const zero = Buffer.alloc(8);
  const offered = plan.mainMode.offeredSuites;
  let keGroup = offered[0]!.dhGroup;
  const proposals = ikev2Proposals(offered);
  const request = (): Buffer => ikev2SaInitRequest({
    spiI, dhGroup: keGroup, proposals,
    kePublicValue: rnd.bytes(DH_PUBLIC_VALUE_BYTES.get(keGroup) ?? 256), nonce: rnd.bytes(32),
    notifies: [...natNotifies(ends, spiI, zero, true, rnd), { type: NOTIFY.IKEV2_FRAGMENTATION_SUPPORTED }, { type: NOTIFY.SIGNATURE_HASH_ALGORITHMS, data: Buffer.from([0, 2, 0, 3, 0, 4]) }],
  });
  let t = 0;
  if (plan.result === 'no-response') {
    const msg = request();
    for (const at of RETRANSMIT) if (at < ends.horizon) out.push({ at, fromInitiator: true, natPort: false, message: msg });
    return out;
  }
  out.push({ at: t, fromInitiator: true, natPort: false, message: request() });
  t += 400_000;
  if (plan.result === 'no-proposal-chosen') {
    out.push({ at: t, fromInitiator: false, natPort: false, message: ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.NO_PROPOSAL_CHOSEN }] }) });
    return out;
  }
  const chosen = plan.mainMode.chosenSuite!;
  if (chosen.dhGroup !== keGroup) {
    // The responder wants another group: INVALID_KE_PAYLOAD, and the initiator retries (RFC 7296 §1.2).
    out.push({ at: t, fromInitiator: false, natPort: false, message: ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.INVALID_KE_PAYLOAD, data: invalidKeData(chosen.dhGroup) }] }) });
    keGroup = chosen.dhGroup;
    t += 300_000;
    out.push({ at: t, fromInitiator: true, natPort: false, message: request() });
    t += 400_000;
  }
  const spiR = newSpi(rnd);
  out.push({
    at: t, fromInitiator: false, natPort: false,
    message: ikev2SaInitResponse({
      spiI, spiR, dhGroup: chosen.dhGroup, proposal: ikev2Proposals([chosen])[0]!,
      kePublicValue: rnd.bytes(DH_PUBLIC_VALUE_BYTES.get(chosen.dhGroup) ?? 256), nonce: rnd.bytes(32),
      notifies: [...natNotifies(ends, spiI, spiR, false, rnd), { type: NOTIFY.IKEV2_FRAGMENTATION_SUPPORTED }],
    }),
  });
  const nat = ends.natTraversal;
  t += 2 * MS;
  out.push({ at: t, fromInitiator: true, natPort: nat, message: sealedV2(rnd, spiI, spiR, EXCHANGE.IKE_AUTH, false, 1, PAYLOAD_V2.IDI, authBodyLength(plan.authentication, rnd)) });
  t += 3 * MS;
  // Success: IDr, CERT, AUTH, SA, TSi, TSr. Failures: a short response holding only the notify.
  const ok = plan.result === 'established' || plan.result === 'quick-mode-failed';
  const responseLength = ok ? authBodyLength(plan.authentication, rnd) - (plan.result === 'quick-mode-failed' ? 160 : 0) : 16 + 16 + 16;
  const first = plan.result === 'authentication-failed' ? PAYLOAD_V2.NOTIFY : PAYLOAD_V2.IDR;
  out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV2(rnd, spiI, spiR, EXCHANGE.IKE_AUTH, true, 1, first, responseLength) });
  if (plan.result === 'quick-mode-failed') {
    // The IKE SA is up but carries no child SA: the initiator closes it (INFORMATIONAL with a Delete).
    t += 1 * MS;
    out.push({ at: t, fromInitiator: true, natPort: nat, message: sealedV2(rnd, spiI, spiR, EXCHANGE.INFORMATIONAL, false, 2, PAYLOAD_V2.DELETE, 16 + 16 + 16) });
    t += 400_000;
    out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV2(rnd, spiI, spiR, EXCHANGE.INFORMATIONAL, true, 2, PAYLOAD_V2.NONE, 16 + 16) });
  }
  return out;
}

/** IKEv1 Notification payload body (RFC 2408 §3.14): DOI, protocol, SPI size, type. */
function v1Notify(type: number): IkePayload {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(1, 0); // DOI IPsec
  b[4] = 1; // PROTO_ISAKMP
  b[5] = 0;
  b.writeUInt16BE(type, 6);
  return { type: PAYLOAD_V1.NOTIFY, body: b };
}

function ikev1Exchange(plan: IkePlan, ends: IkeEndpoints, rnd: SeededRandom): IkeDatagram[] {
  const out: IkeDatagram[] = [];
  const authIp = plan.keying === 'authip-main';
  const mmExchange = authIp ? EXCHANGE.AUTHIP_MAIN_MODE : EXCHANGE.IKEV1_MAIN_MODE;
  const spiI = newSpi(rnd);
  const auth = authMethodV1(plan.authentication);
  const lifeSeconds = plan.mainMode.lifetimeMinutes * 60;
  const suites = ikev1Suites(plan.mainMode.offeredSuites, auth, lifeSeconds);
  const mm1 = authIp
    ? authIpMainMode({ spiI, suites, sequence: 0, vendorIds: WINDOWS_VIDS })
    : ikeMessage({ spiI, version: IKEV1_VERSION, exchange: mmExchange, flags: 0 }, [{ type: PAYLOAD_V1.SA, body: ikev1SaBody(suites) }, ...WINDOWS_VIDS.map((v) => ({ type: PAYLOAD_V1.VID, body: v }))]);
  if (plan.result === 'no-response') {
    for (const at of RETRANSMIT) if (at < ends.horizon) out.push({ at, fromInitiator: true, natPort: false, message: mm1 });
    return out;
  }
  let t = 0;
  out.push({ at: t, fromInitiator: true, natPort: false, message: mm1 });
  t += 400_000;
  const spiR = newSpi(rnd);
  if (plan.result === 'no-proposal-chosen') {
    // An unprotected Informational exchange carrying NO-PROPOSAL-CHOSEN (RFC 2408 §5.5).
    out.push({
      at: t, fromInitiator: false, natPort: false,
      message: ikeMessage({ spiI, spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_INFORMATIONAL, flags: 0, messageId: rnd.u32() || 1 }, [v1Notify(NOTIFY.NO_PROPOSAL_CHOSEN)]),
    });
    return out;
  }
  const chosen = plan.mainMode.chosenSuite!;
  const chosenIndex = Math.max(0, plan.mainMode.offeredSuites.indexOf(chosen));
  const chosenSuite = ikev1Suites([chosen], auth, lifeSeconds)[0]!;
  const mm2 = authIp
    ? authIpMainMode({ spiI, spiR, suites: [chosenSuite], transformNumbers: [chosenIndex + 1], sequence: 0, vendorIds: WINDOWS_VIDS })
    : ikeMessage({ spiI, spiR, version: IKEV1_VERSION, exchange: mmExchange, flags: 0 }, [{ type: PAYLOAD_V1.SA, body: ikev1SaBody([chosenSuite], [chosenIndex + 1]) }, ...WINDOWS_VIDS.map((v) => ({ type: PAYLOAD_V1.VID, body: v }))]);
  out.push({ at: t, fromInitiator: false, natPort: false, message: mm2 });
  const keBytes = DH_PUBLIC_VALUE_BYTES.get(chosen.dhGroup) ?? 256;
  const natD = (fromInitiator: boolean): IkePayload[] => {
    const n = natNotifies(ends, spiI, spiR, fromInitiator, rnd);
    // IKEv1 NAT-D payloads (RFC 3947): the destination's hash first, then the source's.
    return [{ type: PAYLOAD_V1.NAT_D, body: n[1]!.data }, { type: PAYLOAD_V1.NAT_D, body: n[0]!.data }];
  };
  t += 1 * MS;
  out.push({
    at: t, fromInitiator: true, natPort: false,
    message: ikeMessage({ spiI, spiR, version: IKEV1_VERSION, exchange: mmExchange, flags: 0 }, [
      { type: PAYLOAD_V1.KE, body: rnd.bytes(keBytes) }, { type: PAYLOAD_V1.NONCE, body: rnd.bytes(32) }, ...natD(true),
    ]),
  });
  t += 2 * MS;
  out.push({
    at: t, fromInitiator: false, natPort: false,
    message: ikeMessage({ spiI, spiR, version: IKEV1_VERSION, exchange: mmExchange, flags: 0 }, [
      { type: PAYLOAD_V1.KE, body: rnd.bytes(keBytes) }, { type: PAYLOAD_V1.NONCE, body: rnd.bytes(32) }, ...natD(false),
    ]),
  });
  const nat = ends.natTraversal;
  // (3)DES has 8-byte blocks; AES 16.
  const block = chosen.ikev1?.encryption === IKEV1_ENCR.TRIPLE_DES_CBC || chosen.ikev1?.encryption === IKEV1_ENCR.DES_CBC ? 8 : 16;
  const sealedLen = (n: number): number => Math.ceil(n / block) * block;
  t += 3 * MS;
  out.push({ at: t, fromInitiator: true, natPort: nat, message: sealedV1(rnd, spiI, spiR, mmExchange, 0, PAYLOAD_V1.ID, sealedLen(authBodyLength(plan.authentication, rnd))) });
  t += 3 * MS;
  if (plan.result === 'authentication-failed') {
    // The responder cannot verify the initiator: an encrypted Informational with INVALID-ID/AUTHENTICATION-FAILED.
    out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV1(rnd, spiI, spiR, EXCHANGE.IKEV1_INFORMATIONAL, rnd.u32() || 1, PAYLOAD_V1.HASH, sealedLen(76)) });
    return out;
  }
  out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV1(rnd, spiI, spiR, mmExchange, 0, PAYLOAD_V1.ID, sealedLen(authBodyLength(plan.authentication, rnd))) });
  // Quick mode: HASH(1) SA Ni [KE] IDci IDcr, HASH(2) SA Nr [KE] IDci IDcr, HASH(3).
  const qmId = rnd.u32() || 1;
  const pfsBytes = plan.quickMode?.pfsGroup ? (DH_PUBLIC_VALUE_BYTES.get(plan.quickMode.pfsGroup) ?? 256) : 0;
  const qmExchange = authIp ? EXCHANGE.AUTHIP_QUICK_MODE : EXCHANGE.IKEV1_QUICK_MODE;
  t += 1 * MS;
  out.push({ at: t, fromInitiator: true, natPort: nat, message: sealedV1(rnd, spiI, spiR, qmExchange, qmId, PAYLOAD_V1.HASH, sealedLen(240 + 44 * (plan.quickMode?.offered.length ?? 1) + pfsBytes)) });
  t += 1 * MS;
  if (plan.result === 'quick-mode-failed') {
    out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV1(rnd, spiI, spiR, EXCHANGE.IKEV1_INFORMATIONAL, rnd.u32() || 1, PAYLOAD_V1.HASH, sealedLen(76)) });
    return out;
  }
  out.push({ at: t, fromInitiator: false, natPort: nat, message: sealedV1(rnd, spiI, spiR, qmExchange, qmId, PAYLOAD_V1.HASH, sealedLen(284 + pfsBytes)) });
  t += 400_000;
  out.push({ at: t, fromInitiator: true, natPort: nat, message: sealedV1(rnd, spiI, spiR, qmExchange, qmId, PAYLOAD_V1.HASH, sealedLen(28)) });
  return out;
}
