// The records the embedded KMS keeps. Secret fields (`secret`, `privateKey`) live only in
// memory; state-codec.ts wraps them before anything reaches disk.
import type { KeyObject } from 'node:crypto';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
export type KeySpec = 'SYMMETRIC_DEFAULT' | 'RSA_2048' | 'ECC_NIST_P256';
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

export const KEY_SPECS: readonly KeySpec[] = ['SYMMETRIC_DEFAULT', 'RSA_2048', 'ECC_NIST_P256'];

/** One generation of a symmetric key's material. The first has no rotation fields. */
export interface KeyMaterial {
  /** 64 hex characters, like AWS's KeyMaterialId. */
  id: string;
  createdAt: number;
  rotationType?: RotationType;
  /** 32 bytes; never logged, never written unwrapped. */
  secret: Buffer;
}

export interface RotationSettings {
  enabled: boolean;
  periodDays: number;
  /** Epoch ms of the next automatic rotation when enabled. */
  nextRotationAt?: number;
  /** AWS allows 10 on-demand rotations per key over its lifetime. */
  onDemandCount: number;
}

export interface KmsKey {
  keyId: string;
  accountId: string;
  region: string;
  arn: string;
  createdAt: number;
  description: string;
  keyUsage: KeyUsage;
  keySpec: KeySpec;
  state: KeyState;
  deletionAt?: number;
  pendingWindowInDays?: number;
  /** The key policy document exactly as given (GetKeyPolicy returns it unchanged). */
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  rotation: RotationSettings;
  /** Symmetric keys: every material generation, oldest first; the last one is current. */
  materials: KeyMaterial[];
  /** Asymmetric keys only. */
  privateKey?: KeyObject;
  publicKeyDer?: Buffer;
}

export interface KmsAlias {
  aliasName: string;
  accountId: string;
  region: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

export const currentMaterial = (key: KmsKey): KeyMaterial | undefined => key.materials[key.materials.length - 1];

/** Encryption algorithms and signing algorithms DescribeKey lists for a key spec. */
export function signingAlgorithms(spec: KeySpec): string[] {
  if (spec === 'RSA_2048') {
    return [
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
    ];
  }
  if (spec === 'ECC_NIST_P256') return ['ECDSA_SHA_256'];
  return [];
}
