// IANA numbers for IKE, both ways, shared by the capture decoder, the compliance rules and
// the wire simulator (which may import from src/, never the other way round).
// Sources: IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" (Transform Type 1-4
// values) and "Internet Key Exchange (IKE) Attributes" (IKEv1 phase-1 attribute values),
// cross-checked against Wireshark 4.0's value tables (research/captures.md §5.5). Names
// are as IANA spells them; where Wireshark's label differs (e.g. "ENCR_AES-CCM_8",
// "PRF_AES128_CBC", "AES-GCM with a 16 octet ICV") IANA wins.

/** IKEv2 transform types (RFC 7296 §3.3.2; type 4 is "Key Exchange Method" since RFC 9370). */
export const TRANSFORM_TYPE = { ENCR: 1, PRF: 2, INTEG: 3, DH: 4, ESN: 5 } as const;

/** Transform Type 1: encryption algorithm transform IDs. */
export const ENCR = {
  ENCR_DES_IV64: 1,
  ENCR_DES: 2,
  ENCR_3DES: 3,
  ENCR_RC5: 4,
  ENCR_IDEA: 5,
  ENCR_CAST: 6,
  ENCR_BLOWFISH: 7,
  ENCR_3IDEA: 8,
  ENCR_DES_IV32: 9,
  ENCR_NULL: 11,
  ENCR_AES_CBC: 12,
  ENCR_AES_CTR: 13,
  ENCR_AES_CCM_8: 14,
  ENCR_AES_CCM_12: 15,
  ENCR_AES_CCM_16: 16,
  ENCR_AES_GCM_8: 18,
  ENCR_AES_GCM_12: 19,
  ENCR_AES_GCM_16: 20,
  ENCR_NULL_AUTH_AES_GMAC: 21,
  ENCR_CAMELLIA_CBC: 23,
  ENCR_CAMELLIA_CTR: 24,
  // IANA words 25-27 as "ENCR_CAMELLIA_CCM with an 8/12/16-octet ICV"; these are the usual identifiers.
  ENCR_CAMELLIA_CCM_8: 25,
  ENCR_CAMELLIA_CCM_12: 26,
  ENCR_CAMELLIA_CCM_16: 27,
  ENCR_CHACHA20_POLY1305: 28,
  ENCR_AES_CCM_8_IIV: 29,
  ENCR_AES_GCM_16_IIV: 30,
  ENCR_CHACHA20_POLY1305_IIV: 31,
  ENCR_KUZNYECHIK_MGM_KTREE: 32,
  ENCR_MAGMA_MGM_KTREE: 33,
  ENCR_KUZNYECHIK_MGM_MAC_KTREE: 34,
  ENCR_MAGMA_MGM_MAC_KTREE: 35,
} as const;

/** Transform Type 2: pseudorandom function transform IDs. */
export const PRF = {
  PRF_HMAC_MD5: 1,
  PRF_HMAC_SHA1: 2,
  PRF_HMAC_TIGER: 3,
  PRF_AES128_XCBC: 4,
  PRF_HMAC_SHA2_256: 5,
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
  PRF_AES128_CMAC: 8,
  PRF_HMAC_STREEBOG_512: 9,
} as const;

/** Transform Type 3: integrity algorithm transform IDs. */
export const INTEG = {
  NONE: 0,
  AUTH_HMAC_MD5_96: 1,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_DES_MAC: 3,
  AUTH_KPDK_MD5: 4,
  AUTH_AES_XCBC_96: 5,
  AUTH_HMAC_MD5_128: 6,
  AUTH_HMAC_SHA1_160: 7,
  AUTH_AES_CMAC_96: 8,
  AUTH_AES_128_GMAC: 9,
  AUTH_AES_192_GMAC: 10,
  AUTH_AES_256_GMAC: 11,
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;

/**
 * Transform Type 4 / IKEv1 attribute 4: Diffie-Hellman (key exchange) group numbers, the
 * same in IKEv1 and IKEv2. Keys are short handles; IANA names groups by description.
 */
export const DH_GROUP = {
  NONE: 0,
  MODP_768: 1,
  MODP_1024: 2,
  MODP_1536: 5,
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  MODP_6144: 17,
  MODP_8192: 18,
  ECP_256: 19,
  ECP_384: 20,
  ECP_521: 21,
  MODP_1024_S160: 22,
  MODP_2048_S224: 23,
  MODP_2048_S256: 24,
  ECP_192: 25,
  ECP_224: 26,
  BRAINPOOL_P224R1: 27,
  BRAINPOOL_P256R1: 28,
  BRAINPOOL_P384R1: 29,
  BRAINPOOL_P512R1: 30,
  CURVE25519: 31,
  CURVE448: 32,
  GOST3410_2012_256: 33,
  GOST3410_2012_512: 34,
} as const;

/** IANA's descriptions of the groups (IKEv1 groups 3/4 are the old EC2N ones). */
export const DH_GROUP_DESCRIPTION: ReadonlyMap<number, string> = new Map([
  [0, 'NONE'],
  [1, '768-bit MODP Group'],
  [2, '1024-bit MODP Group'],
  [3, 'EC2N group on GP[2^155]'],
  [4, 'EC2N group on GP[2^185]'],
  [5, '1536-bit MODP Group'],
  [14, '2048-bit MODP Group'],
  [15, '3072-bit MODP Group'],
  [16, '4096-bit MODP Group'],
  [17, '6144-bit MODP Group'],
  [18, '8192-bit MODP Group'],
  [19, '256-bit random ECP group'],
  [20, '384-bit random ECP group'],
  [21, '521-bit random ECP group'],
  [22, '1024-bit MODP Group with 160-bit Prime Order Subgroup'],
  [23, '2048-bit MODP Group with 224-bit Prime Order Subgroup'],
  [24, '2048-bit MODP Group with 256-bit Prime Order Subgroup'],
  [25, '192-bit Random ECP Group'],
  [26, '224-bit Random ECP Group'],
  [27, 'brainpoolP224r1'],
  [28, 'brainpoolP256r1'],
  [29, 'brainpoolP384r1'],
  [30, 'brainpoolP512r1'],
  [31, 'Curve25519'],
  [32, 'Curve448'],
  [33, 'GOST3410_2012_256'],
  [34, 'GOST3410_2012_512'],
]);

/** Bytes of a key-exchange public value per group (RFC 7296 §3.4 / RFC 5903 / RFC 8031): what a KE payload carries. */
export const DH_PUBLIC_VALUE_BYTES: ReadonlyMap<number, number> = new Map([
  [1, 96], [2, 128], [5, 192], [14, 256], [15, 384], [16, 512], [17, 768], [18, 1024],
  [19, 64], [20, 96], [21, 132], [22, 128], [23, 256], [24, 256], [25, 48], [26, 56],
  [27, 56], [28, 64], [29, 96], [30, 128], [31, 32], [32, 56],
]);

type ValueOf<T> = T[keyof T];
export type EncrName = keyof typeof ENCR;
export type PrfName = keyof typeof PRF;
export type IntegName = keyof typeof INTEG;

function reverse<T extends Record<string, number>>(table: T): ReadonlyMap<number, keyof T & string> {
  return new Map(Object.entries(table).map(([k, v]) => [v, k as keyof T & string]));
}

const ENCR_BY_ID = reverse(ENCR);
const PRF_BY_ID = reverse(PRF);
const INTEG_BY_ID = reverse(INTEG);

export function encrName(id: number): EncrName | undefined { return ENCR_BY_ID.get(id); }
export function prfName(id: number): PrfName | undefined { return PRF_BY_ID.get(id); }
export function integName(id: number): IntegName | undefined { return INTEG_BY_ID.get(id); }
export function dhGroupDescription(group: number): string | undefined { return DH_GROUP_DESCRIPTION.get(group); }

function lookup<T extends Record<string, number>>(table: T, name: string): ValueOf<T> | undefined {
  // hasOwn: a name like "toString" must not find Object.prototype.
  return Object.hasOwn(table, name) ? (table[name] as ValueOf<T>) : undefined;
}

export function encrId(name: string): ValueOf<typeof ENCR> | undefined { return lookup(ENCR, name); }
export function prfId(name: string): ValueOf<typeof PRF> | undefined { return lookup(PRF, name); }
export function integId(name: string): ValueOf<typeof INTEG> | undefined { return lookup(INTEG, name); }

/** The IANA name of an IKEv2 transform (type 1-3), or for type 4 the group's description. */
export function transformName(type: number, id: number): string | undefined {
  switch (type) {
    case TRANSFORM_TYPE.ENCR: return encrName(id);
    case TRANSFORM_TYPE.PRF: return prfName(id);
    case TRANSFORM_TYPE.INTEG: return integName(id);
    case TRANSFORM_TYPE.DH: return dhGroupDescription(id);
    case TRANSFORM_TYPE.ESN: return id === 0 ? 'No Extended Sequence Numbers' : id === 1 ? 'Extended Sequence Numbers' : undefined;
    default: return undefined;
  }
}

/** Transform attribute type 14, Key Length in bits (the only IKEv2 transform attribute). */
export const ATTR_KEY_LENGTH = 14;

// ---------------------------------------------------------------- IKEv1 (RFC 2409 App. A)

/** Phase-1 attribute classes. */
export const IKEV1_ATTR = {
  ENCRYPTION_ALGORITHM: 1,
  HASH_ALGORITHM: 2,
  AUTHENTICATION_METHOD: 3,
  GROUP_DESCRIPTION: 4,
  GROUP_TYPE: 5,
  GROUP_PRIME: 6,
  GROUP_GENERATOR_ONE: 7,
  GROUP_GENERATOR_TWO: 8,
  GROUP_CURVE_A: 9,
  GROUP_CURVE_B: 10,
  LIFE_TYPE: 11,
  LIFE_DURATION: 12,
  PRF: 13,
  KEY_LENGTH: 14,
  FIELD_SIZE: 15,
  GROUP_ORDER: 16,
} as const;

/** Encryption Algorithm values; the map holds IANA's names (e.g. 5 → "3DES-CBC"). */
export const IKEV1_ENCR = { DES_CBC: 1, IDEA_CBC: 2, BLOWFISH_CBC: 3, RC5_R16_B64_CBC: 4, TRIPLE_DES_CBC: 5, CAST_CBC: 6, AES_CBC: 7, CAMELLIA_CBC: 8 } as const;
export const IKEV1_ENCR_NAME: ReadonlyMap<number, string> = new Map([
  [1, 'DES-CBC'], [2, 'IDEA-CBC'], [3, 'Blowfish-CBC'], [4, 'RC5-R16-B64-CBC'], [5, '3DES-CBC'], [6, 'CAST-CBC'], [7, 'AES-CBC'], [8, 'CAMELLIA-CBC'],
]);

/** Hash Algorithm values (IANA names: MD5, SHA, Tiger, SHA2-256, SHA2-384, SHA2-512). */
export const IKEV1_HASH = { MD5: 1, SHA: 2, TIGER: 3, SHA2_256: 4, SHA2_384: 5, SHA2_512: 6 } as const;
export const IKEV1_HASH_NAME: ReadonlyMap<number, string> = new Map([
  [1, 'MD5'], [2, 'SHA'], [3, 'Tiger'], [4, 'SHA2-256'], [5, 'SHA2-384'], [6, 'SHA2-512'],
]);

/** Authentication Method values. */
export const IKEV1_AUTH_METHOD = {
  PRE_SHARED_KEY: 1, DSS_SIGNATURES: 2, RSA_SIGNATURES: 3, RSA_ENCRYPTION: 4, RSA_REVISED_ENCRYPTION: 5,
  ECDSA_SHA256_P256: 9, ECDSA_SHA384_P384: 10, ECDSA_SHA512_P521: 11,
} as const;
export const IKEV1_AUTH_METHOD_NAME: ReadonlyMap<number, string> = new Map([
  [1, 'pre-shared key'], [2, 'DSS signatures'], [3, 'RSA signatures'], [4, 'Encryption with RSA'], [5, 'Revised encryption with RSA'],
  [9, 'ECDSA with SHA-256 on the P-256 curve'], [10, 'ECDSA with SHA-384 on the P-384 curve'], [11, 'ECDSA with SHA-512 on the P-521 curve'],
]);

/** Life Type values. */
export const IKEV1_LIFE_TYPE = { SECONDS: 1, KILOBYTES: 2 } as const;

/** Reverse lookups for the IKEv1 names (e.g. "AES-CBC" → 7). */
export function ikev1EncrId(name: string): number | undefined {
  for (const [id, n] of IKEV1_ENCR_NAME) if (n === name) return id;
  return undefined;
}
export function ikev1HashId(name: string): number | undefined {
  for (const [id, n] of IKEV1_HASH_NAME) if (n === name) return id;
  return undefined;
}

/**
 * IKEv1 encryption values under the IKEv2 names, so one policy vocabulary covers both
 * versions (e.g. 7 → ENCR_AES_CBC; the key length travels separately in attribute 14).
 */
export const IKEV1_ENCR_TO_IKEV2: ReadonlyMap<number, EncrName> = new Map<number, EncrName>([
  [1, 'ENCR_DES'], [2, 'ENCR_IDEA'], [3, 'ENCR_BLOWFISH'], [4, 'ENCR_RC5'], [5, 'ENCR_3DES'], [6, 'ENCR_CAST'], [7, 'ENCR_AES_CBC'], [8, 'ENCR_CAMELLIA_CBC'],
]);

/**
 * An IKEv1 phase-1 hash drives both the HMAC that protects the exchange and the PRF, so it
 * maps to an IKEv2 integrity and PRF name. Integrity is an approximation: IKEv1 uses the
 * full HMAC output, IKEv2's AUTH_* truncate it. Tiger has no IKEv2 integrity transform.
 */
export const IKEV1_HASH_TO_IKEV2: ReadonlyMap<number, { integrity?: IntegName; prf: PrfName }> = new Map<number, { integrity?: IntegName; prf: PrfName }>([
  [1, { integrity: 'AUTH_HMAC_MD5_96', prf: 'PRF_HMAC_MD5' }],
  [2, { integrity: 'AUTH_HMAC_SHA1_96', prf: 'PRF_HMAC_SHA1' }],
  [3, { prf: 'PRF_HMAC_TIGER' }],
  [4, { integrity: 'AUTH_HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256' }],
  [5, { integrity: 'AUTH_HMAC_SHA2_384_192', prf: 'PRF_HMAC_SHA2_384' }],
  [6, { integrity: 'AUTH_HMAC_SHA2_512_256', prf: 'PRF_HMAC_SHA2_512' }],
]);

export function ikev1EncrToIkev2(value: number): EncrName | undefined { return IKEV1_ENCR_TO_IKEV2.get(value); }
export function ikev1HashToIkev2(value: number): { integrity?: IntegName; prf: PrfName } | undefined { return IKEV1_HASH_TO_IKEV2.get(value); }

// ---------------------------------------------------------------- message-level numbers

/** Exchange types (IKEv1 RFC 2408/2409, IKEv2 RFC 7296, AuthIP MS-AIPS). */
export const EXCHANGE = {
  IKEV1_BASE: 1, IKEV1_MAIN_MODE: 2, IKEV1_AUTH_ONLY: 3, IKEV1_AGGRESSIVE: 4, IKEV1_INFORMATIONAL: 5, IKEV1_TRANSACTION: 6,
  IKEV1_QUICK_MODE: 32, IKEV1_NEW_GROUP: 33,
  IKE_SA_INIT: 34, IKE_AUTH: 35, CREATE_CHILD_SA: 36, INFORMATIONAL: 37,
  AUTHIP_MAIN_MODE: 243, AUTHIP_QUICK_MODE: 244, AUTHIP_EXTENDED_MODE: 245,
} as const;

/** IKEv1 payload types (RFC 2408 §3.1, RFC 3947). */
export const PAYLOAD_V1 = {
  NONE: 0, SA: 1, PROPOSAL: 2, TRANSFORM: 3, KE: 4, ID: 5, CERT: 6, CR: 7, HASH: 8, SIG: 9, NONCE: 10,
  NOTIFY: 11, DELETE: 12, VID: 13, NAT_D: 20, NAT_OA: 21, AUTHIP_CRYPTO: 0x85,
} as const;

/** IKEv2 payload types (RFC 7296 §3.2, RFC 7383). */
export const PAYLOAD_V2 = {
  NONE: 0, SA: 33, KE: 34, IDI: 35, IDR: 36, CERT: 37, CERTREQ: 38, AUTH: 39, NONCE: 40, NOTIFY: 41, DELETE: 42,
  VID: 43, TSI: 44, TSR: 45, SK: 46, CP: 47, EAP: 48, SKF: 53,
} as const;

/** IKEv2 Notify message types used on the clear-text wire (RFC 7296 §3.10.1). */
export const NOTIFY = {
  UNSUPPORTED_CRITICAL_PAYLOAD: 1, INVALID_IKE_SPI: 4, INVALID_MAJOR_VERSION: 5, INVALID_SYNTAX: 7, INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11, NO_PROPOSAL_CHOSEN: 14, INVALID_KE_PAYLOAD: 17, AUTHENTICATION_FAILED: 24,
  INITIAL_CONTACT: 16384, SET_WINDOW_SIZE: 16385, NAT_DETECTION_SOURCE_IP: 16388, NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390, USE_TRANSPORT_MODE: 16391, REKEY_SA: 16393, IKEV2_FRAGMENTATION_SUPPORTED: 16430, SIGNATURE_HASH_ALGORITHMS: 16431,
} as const;

/** SA payload protocol IDs (IKEv2; IKEv1 uses 1 PROTO_ISAKMP, 2 PROTO_IPSEC_AH, 3 PROTO_IPSEC_ESP). */
export const PROTOCOL_ID = { IKE: 1, AH: 2, ESP: 3 } as const;
