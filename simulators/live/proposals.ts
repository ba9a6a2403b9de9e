// IANA transform names (as the capture rules report them) → strongSwan proposal keywords
// (swanctl.conf `proposals` / `esp_proposals`, e.g. aes256-sha256-modp2048, aes256gcm16,
// null-sha256). Pure; an algorithm strongSwan cannot express is an InputError naming it.
import { InputError } from '../../src/util/errors.js';
import type { EspSuite, IkeSuite } from './plan.js';

const AES_KEY_LENGTHS = [128, 192, 256];

/** Ciphers with an integrity check of their own: no integrity transform, PRF given separately. */
const AEAD = new Set(['ENCR_AES_GCM_8', 'ENCR_AES_GCM_12', 'ENCR_AES_GCM_16', 'ENCR_AES_CCM_8', 'ENCR_AES_CCM_12', 'ENCR_AES_CCM_16', 'ENCR_CHACHA20_POLY1305', 'ENCR_NULL_AUTH_AES_GMAC']);

const INTEGRITY: Readonly<Record<string, string>> = {
  AUTH_HMAC_MD5_96: 'md5',
  AUTH_HMAC_SHA1_96: 'sha1',
  AUTH_AES_XCBC_96: 'aesxcbc',
  AUTH_AES_CMAC_96: 'aescmac',
  AUTH_HMAC_SHA2_256_128: 'sha256',
  AUTH_HMAC_SHA2_384_192: 'sha384',
  AUTH_HMAC_SHA2_512_256: 'sha512',
};

const PRF: Readonly<Record<string, string>> = {
  PRF_HMAC_MD5: 'prfmd5',
  PRF_HMAC_SHA1: 'prfsha1',
  PRF_AES128_XCBC: 'prfaesxcbc',
  PRF_AES128_CMAC: 'prfaescmac',
  PRF_HMAC_SHA2_256: 'prfsha256',
  PRF_HMAC_SHA2_384: 'prfsha384',
  PRF_HMAC_SHA2_512: 'prfsha512',
};

/** The PRF strongSwan derives from an integrity keyword when none is given. */
const PRF_OF_INTEGRITY: Readonly<Record<string, string>> = {
  AUTH_HMAC_MD5_96: 'PRF_HMAC_MD5',
  AUTH_HMAC_SHA1_96: 'PRF_HMAC_SHA1',
  AUTH_AES_XCBC_96: 'PRF_AES128_XCBC',
  AUTH_AES_CMAC_96: 'PRF_AES128_CMAC',
  AUTH_HMAC_SHA2_256_128: 'PRF_HMAC_SHA2_256',
  AUTH_HMAC_SHA2_384_192: 'PRF_HMAC_SHA2_384',
  AUTH_HMAC_SHA2_512_256: 'PRF_HMAC_SHA2_512',
};

const DH: ReadonlyMap<number, string> = new Map([
  [1, 'modp768'],
  [2, 'modp1024'],
  [5, 'modp1536'],
  [14, 'modp2048'],
  [15, 'modp3072'],
  [16, 'modp4096'],
  [17, 'modp6144'],
  [18, 'modp8192'],
  [19, 'ecp256'],
  [20, 'ecp384'],
  [21, 'ecp521'],
  [22, 'modp1024s160'],
  [23, 'modp2048s224'],
  [24, 'modp2048s256'],
  [25, 'ecp192'],
  [26, 'ecp224'],
  [27, 'ecp224bp'],
  [28, 'ecp256bp'],
  [29, 'ecp384bp'],
  [30, 'ecp512bp'],
  [31, 'curve25519'],
  [32, 'curve448'],
]);

function aesBits(what: string, keyLength: number | undefined, field: string): number {
  if (keyLength === undefined || !AES_KEY_LENGTHS.includes(keyLength)) {
    throw new InputError(`${field}: ${what} needs keyLength 128, 192 or 256, found ${JSON.stringify(keyLength)}`);
  }
  return keyLength;
}

/** strongSwan's keyword for a cipher (with its key length folded in). */
export function encryptionKeyword(encryption: string, keyLength: number | undefined, field: string): string {
  switch (encryption) {
    case 'ENCR_AES_CBC':
      return `aes${aesBits(encryption, keyLength, field)}`;
    case 'ENCR_AES_CTR':
      return `aes${aesBits(encryption, keyLength, field)}ctr`;
    case 'ENCR_AES_GCM_8':
    case 'ENCR_AES_GCM_12':
    case 'ENCR_AES_GCM_16':
      return `aes${aesBits(encryption, keyLength, field)}gcm${encryption.slice('ENCR_AES_GCM_'.length)}`;
    case 'ENCR_AES_CCM_8':
    case 'ENCR_AES_CCM_12':
    case 'ENCR_AES_CCM_16':
      return `aes${aesBits(encryption, keyLength, field)}ccm${encryption.slice('ENCR_AES_CCM_'.length)}`;
    case 'ENCR_NULL_AUTH_AES_GMAC':
      return `aes${aesBits(encryption, keyLength, field)}gmac`;
    case 'ENCR_CHACHA20_POLY1305':
      return 'chacha20poly1305';
    case 'ENCR_3DES':
      return '3des';
    case 'ENCR_DES':
      return 'des';
    case 'ENCR_NULL':
      return 'null';
    default:
      throw new InputError(`${field}: encryption ${JSON.stringify(encryption)} has no strongSwan keyword here (expected ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_3DES, ENCR_NULL, …)`);
  }
}

function integrityKeyword(integrity: string, field: string): string {
  const kw = INTEGRITY[integrity];
  if (!kw) throw new InputError(`${field}: integrity ${JSON.stringify(integrity)} has no strongSwan keyword (expected one of ${Object.keys(INTEGRITY).join(', ')})`);
  return kw;
}

export function dhKeyword(group: number, field: string): string {
  const kw = DH.get(group);
  if (!kw) throw new InputError(`${field}: Diffie-Hellman group ${JSON.stringify(group)} has no strongSwan keyword (expected one of ${[...DH.keys()].join(', ')})`);
  return kw;
}

/** An IKE proposal, e.g. aes256-sha256-modp2048 or aes256gcm16-prfsha256-ecp256. */
export function ikeProposal(s: IkeSuite, field = 'ike'): string {
  if (s.version !== 1 && s.version !== 2) throw new InputError(`${field}.version: expected 1 or 2, found ${JSON.stringify(s.version)}`);
  if (s.encryption === 'ENCR_NULL') throw new InputError(`${field}: an IKE SA cannot use ENCR_NULL`);
  const aead = AEAD.has(s.encryption);
  if (aead && s.version === 1) throw new InputError(`${field}: IKEv1 main mode has no ${s.encryption} (combined-mode ciphers are IKEv2 only)`);
  const parts = [encryptionKeyword(s.encryption, s.keyLength, field)];
  if (aead) {
    if (s.integrity !== 'NONE') throw new InputError(`${field}: ${s.encryption} carries its own integrity check; integrity must be NONE, found ${s.integrity}`);
    if (!s.prf) throw new InputError(`${field}: ${s.encryption} needs an explicit prf (e.g. PRF_HMAC_SHA2_256)`);
  } else {
    parts.push(integrityKeyword(s.integrity, field));
  }
  if (s.prf !== undefined) {
    const kw = PRF[s.prf];
    if (!kw) throw new InputError(`${field}: prf ${JSON.stringify(s.prf)} has no strongSwan keyword (expected one of ${Object.keys(PRF).join(', ')})`);
    if (s.version === 1) {
      // IKEv1 has no PRF transform: the hash algorithm is both integrity and PRF.
      if (PRF_OF_INTEGRITY[s.integrity] !== s.prf) throw new InputError(`${field}: IKEv1 derives the PRF from the hash; ${s.integrity} gives ${PRF_OF_INTEGRITY[s.integrity]}, not ${s.prf}`);
    } else if (aead || PRF_OF_INTEGRITY[s.integrity] !== s.prf) {
      parts.push(kw);
    }
  }
  parts.push(dhKeyword(s.dhGroup, field));
  return parts.join('-');
}

/** An ESP proposal, e.g. aes256-sha256, aes256gcm16, null-sha256, aes256-sha256-modp2048 (PFS). */
export function espProposal(s: EspSuite, field = 'esp'): string {
  if (s.protocol !== 'esp') throw new InputError(`${field}.protocol: the live wire does ESP only (kernel-libipsec), found ${JSON.stringify(s.protocol)}`);
  const aead = AEAD.has(s.encryption);
  const parts = [encryptionKeyword(s.encryption, s.keyLength, field)];
  if (aead) {
    if (s.integrity !== 'NONE') throw new InputError(`${field}: ${s.encryption} carries its own integrity check; integrity must be NONE, found ${s.integrity}`);
  } else {
    if (s.integrity === 'NONE') throw new InputError(`${field}: ${s.encryption} needs an integrity algorithm (only combined-mode ciphers such as ENCR_AES_GCM_16 go without one)`);
    parts.push(integrityKeyword(s.integrity, field));
  }
  if (s.pfsGroup !== undefined && s.pfsGroup !== 0) parts.push(dhKeyword(s.pfsGroup, field));
  return parts.join('-');
}
