// The one place where Windows' algorithm names (policy-model.ts) become IANA numbers and
// names (src/capture/ike-ids.ts, the vocabulary the capture decoder and the compliance
// rules speak). The wire builds its IKE SA payloads from these, and the negotiation plan
// states its expectations in these names, so a plan can be compared with what
// `cryptgate check capture` reads back.
import { DH_GROUP, ENCR, IKEV1_ENCR, IKEV1_HASH, IKEV1_HASH_TO_IKEV2, INTEG, PRF, type EncrName, type IntegName, type PrfName } from '../capture/ike-ids.js';
import type {
  KeyExchange, MainModeEncryption, MainModeIntegrity, MainModeProposal, PfsGroup, QuickModeEncryption, QuickModeIntegrity, QuickModeProposal,
} from './policy-model.js';

/** A main-mode proposal in IANA terms (IKEv2 transform names; IKEv1 values alongside). */
export interface IanaIkeSuite {
  encryption: EncrName;
  /** Key Length attribute in bits; null for fixed-key ciphers (DES, 3DES), as on the wire. */
  keyLength: number | null;
  /** 'NONE' with an AEAD cipher (AES-GCM carries its own integrity). */
  integrity: IntegName;
  prf: PrfName;
  dhGroup: number;
  /** IKEv1 phase-1 attribute values, or null when IKEv1 cannot express the proposal (AES-GCM). */
  ikev1: { encryption: number; keyLength: number | null; hash: number } | null;
}

/** A quick-mode proposal in IANA terms. */
export interface IanaChildSuite {
  /** 'ESP', 'AH' or 'AH+ESP'. */
  protocols: readonly ('ESP' | 'AH')[];
  espEncryption: EncrName | null;
  espKeyLength: number | null;
  espIntegrity: IntegName | null;
  ahIntegrity: IntegName | null;
}

const MM_ENCRYPTION: Record<MainModeEncryption, { name: EncrName; keyLength: number | null; v1: number | null }> = {
  DES: { name: 'ENCR_DES', keyLength: null, v1: IKEV1_ENCR.DES_CBC },
  '3DES': { name: 'ENCR_3DES', keyLength: null, v1: IKEV1_ENCR.TRIPLE_DES_CBC },
  AES128: { name: 'ENCR_AES_CBC', keyLength: 128, v1: IKEV1_ENCR.AES_CBC },
  AES192: { name: 'ENCR_AES_CBC', keyLength: 192, v1: IKEV1_ENCR.AES_CBC },
  AES256: { name: 'ENCR_AES_CBC', keyLength: 256, v1: IKEV1_ENCR.AES_CBC },
  AESGCM128: { name: 'ENCR_AES_GCM_16', keyLength: 128, v1: null },
  AESGCM192: { name: 'ENCR_AES_GCM_16', keyLength: 192, v1: null },
  AESGCM256: { name: 'ENCR_AES_GCM_16', keyLength: 256, v1: null },
};

/** Windows' main-mode integrity is an IKEv1 hash; in IKEv2 it is that hash's integrity and PRF (IKEV1_HASH_TO_IKEV2). */
const MM_HASH: Record<MainModeIntegrity, number> = { MD5: IKEV1_HASH.MD5, SHA1: IKEV1_HASH.SHA, SHA256: IKEV1_HASH.SHA2_256, SHA384: IKEV1_HASH.SHA2_384 };

function mainModeIntegrity(i: MainModeIntegrity): { integrity: IntegName; prf: PrfName; v1Hash: number } {
  const v1Hash = MM_HASH[i];
  const v2 = IKEV1_HASH_TO_IKEV2.get(v1Hash)!; // MD5, SHA-1, SHA2-256 and SHA2-384 all have an IKEv2 integrity transform
  return { integrity: v2.integrity!, prf: v2.prf, v1Hash };
}

const DH: Record<KeyExchange, number> = {
  DH1: DH_GROUP.MODP_768,
  DH2: DH_GROUP.MODP_1024,
  DH14: DH_GROUP.MODP_2048,
  DH19: DH_GROUP.ECP_256,
  DH20: DH_GROUP.ECP_384,
  DH24: DH_GROUP.MODP_2048_S256,
};

const QM_ENCRYPTION: Record<QuickModeEncryption, { name: EncrName; keyLength: number | null }> = {
  None: { name: 'ENCR_NULL', keyLength: null },
  DES: { name: 'ENCR_DES', keyLength: null },
  '3DES': { name: 'ENCR_3DES', keyLength: null },
  AES128: { name: 'ENCR_AES_CBC', keyLength: 128 },
  AES192: { name: 'ENCR_AES_CBC', keyLength: 192 },
  AES256: { name: 'ENCR_AES_CBC', keyLength: 256 },
  AESGCM128: { name: 'ENCR_AES_GCM_16', keyLength: 128 },
  AESGCM192: { name: 'ENCR_AES_GCM_16', keyLength: 192 },
  AESGCM256: { name: 'ENCR_AES_GCM_16', keyLength: 256 },
};

const QM_INTEGRITY: Record<QuickModeIntegrity, IntegName> = {
  None: 'NONE',
  MD5: 'AUTH_HMAC_MD5_96',
  SHA1: 'AUTH_HMAC_SHA1_96',
  SHA256: 'AUTH_HMAC_SHA2_256_128',
  SHA384: 'AUTH_HMAC_SHA2_384_192',
  AESGMAC128: 'AUTH_AES_128_GMAC',
  AESGMAC192: 'AUTH_AES_192_GMAC',
  AESGMAC256: 'AUTH_AES_256_GMAC',
};

export function dhGroupNumber(k: KeyExchange): number {
  return DH[k];
}

/** The quick mode's PFS group number, or null for none (SameAsMainMode resolves to the main mode's group). */
export function pfsGroupNumber(p: PfsGroup, mainModeGroup: number): number | null {
  if (p === 'None') return null;
  if (p === 'SameAsMainMode') return mainModeGroup;
  return DH[p];
}

export function ikeSuite(p: MainModeProposal): IanaIkeSuite {
  const enc = MM_ENCRYPTION[p.encryption];
  const integ = mainModeIntegrity(p.integrity);
  const aead = enc.name === 'ENCR_AES_GCM_16';
  return {
    encryption: enc.name,
    keyLength: enc.keyLength,
    integrity: aead ? 'NONE' : integ.integrity,
    prf: integ.prf,
    dhGroup: DH[p.keyExchange],
    ikev1: enc.v1 === null ? null : { encryption: enc.v1, keyLength: enc.keyLength, hash: integ.v1Hash },
  };
}

export function childSuite(p: QuickModeProposal): IanaChildSuite {
  const esp = p.encapsulation !== 'AH';
  const ah = p.encapsulation !== 'ESP';
  const enc = QM_ENCRYPTION[p.espEncryption];
  return {
    protocols: p.encapsulation === 'AH+ESP' ? ['AH', 'ESP'] : [p.encapsulation as 'ESP' | 'AH'],
    espEncryption: esp ? enc.name : null,
    espKeyLength: esp ? enc.keyLength : null,
    espIntegrity: esp ? QM_INTEGRITY[p.espIntegrity] : null,
    ahIntegrity: ah ? QM_INTEGRITY[p.ahIntegrity] : null,
  };
}

/** IANA transform ids of a suite, for SA payload builders. */
export function ikeTransformIds(s: IanaIkeSuite): { encr: number; keyLength: number | null; integ: number | null; prf: number; dh: number } {
  return {
    encr: ENCR[s.encryption],
    keyLength: s.keyLength,
    integ: s.integrity === 'NONE' ? null : INTEG[s.integrity],
    prf: PRF[s.prf],
    dh: s.dhGroup,
  };
}
