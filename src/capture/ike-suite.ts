// One IKE proposal in IANA's words, the same vocabulary for IKEv1 and IKEv2 (IKEv1
// values are mapped onto the IKEv2 names), so one policy judges both versions.
import type { IkeProposal } from './ike.js';
import { encrName, ikev1EncrToIkev2, ikev1HashToIkev2, integName, prfName } from './ike-ids.js';

export interface SuiteNames {
  encryption: string;
  keyLength: number | null;
  /** `NONE` when no integrity transform was negotiated (AEAD ciphers). */
  integrity: string;
  prf: string;
  dhGroup: number | null;
}

/** Names the first alternative of each transform type (a responder's choice has exactly one). */
export function suiteNames(version: 1 | 2, p: IkeProposal): SuiteNames {
  const enc = p.encryption[0];
  let encryption: string;
  let integrity: string;
  let prf: string;
  if (version === 2) {
    encryption = enc ? (encrName(enc.id) ?? `ENCR_${enc.id}`) : 'NONE';
    const integ = p.integrity[0];
    integrity = integ === undefined || integ === 0 ? 'NONE' : (integName(integ) ?? `AUTH_${integ}`);
    const prfId = p.prf[0];
    prf = prfId === undefined ? 'NONE' : (prfName(prfId) ?? `PRF_${prfId}`);
  } else {
    encryption = enc ? (ikev1EncrToIkev2(enc.id) ?? `IKEV1_ENCR_${enc.id}`) : 'NONE';
    const hash = p.hash?.[0];
    const mapped = hash === undefined ? undefined : ikev1HashToIkev2(hash);
    integrity = mapped?.integrity ?? (hash === undefined ? 'NONE' : `IKEV1_HASH_${hash}`);
    prf = mapped?.prf ?? (hash === undefined ? 'NONE' : `IKEV1_HASH_${hash}`);
  }
  return {
    encryption,
    // As on the wire (and in tshark): fixed-key ciphers such as 3DES carry no Key Length.
    keyLength: enc?.keyLength ?? null,
    integrity,
    prf,
    dhGroup: p.dhGroup[0] ?? null,
  };
}
