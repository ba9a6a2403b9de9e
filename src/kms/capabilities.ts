// What each KMS backend can reproduce of real AWS KMS (research/kms.md §6). A Gherkin step
// that needs a behaviour the backend lacks marks its scenario "not reproducible on this
// backend" instead of passing; `cryptgate kms probe` (and scripts/moto/conformance.mjs in CI)
// checks these declarations against what the backend actually answers, so they stay honest.

export interface KmsCapabilities {
  /** GenerateDataKey/Decrypt on a Disabled key fail with DisabledException, on a key pending deletion with KMSInvalidStateException. */
  disabledKeysRefuse: boolean;
  /** RotateKeyOnDemand makes new key material (old ciphertexts still decrypt with the old). */
  rotationChangesMaterial: boolean;
  /** The key policy is evaluated for every call: an explicit Deny gives AccessDeniedException. */
  keyPolicyEnforced: boolean;
  /** Decrypt with a KeyId other than the ciphertext's key is IncorrectKeyException (not AccessDenied). */
  incorrectKeyException: boolean;
  /** ListKeyRotations answers (LocalStack's free image: 501). */
  listKeyRotations: boolean;
  /** Throttling, outage, hang and latency knobs (the embedded KMS's /_cryptgate/faults). */
  faultInjection: boolean;
  /** Per-operation, per-principal request counters (the embedded KMS's /_cryptgate/counters). */
  requestCounters: boolean;
}

export type KmsCapability = keyof KmsCapabilities;

export const CAPABILITY_NAMES: readonly KmsCapability[] = [
  'disabledKeysRefuse',
  'rotationChangesMaterial',
  'keyPolicyEnforced',
  'incorrectKeyException',
  'listKeyRotations',
  'faultInjection',
  'requestCounters',
];

/** Real AWS KMS: every documented behaviour; no test knobs. */
export const AWS_CAPABILITIES: Readonly<KmsCapabilities> = Object.freeze({
  disabledKeysRefuse: true,
  rotationChangesMaterial: true,
  keyPolicyEnforced: true,
  incorrectKeyException: true,
  listKeyRotations: true,
  faultInjection: false,
  requestCounters: false,
});

/** cryptgate's embedded KMS (in process or `cryptgate kms serve`): faithful, plus the knobs. */
export const EMBEDDED_CAPABILITIES: Readonly<KmsCapabilities> = Object.freeze({
  disabledKeysRefuse: true,
  rotationChangesMaterial: true,
  keyPolicyEnforced: true,
  incorrectKeyException: true,
  listKeyRotations: true,
  faultInjection: true,
  requestCounters: true,
});

/**
 * moto 5.2.x (moto/kms/models.py): key state is never checked for cryptography, on-demand
 * rotation only appends a history record, only DescribeKey looks at the key policy (an
 * explicit Deny of kms:*, kms:Describe* or kms:DescribeKey), a mismatched Decrypt KeyId is
 * AccessDeniedException. ListKeyRotations lists that history.
 */
export const MOTO_CAPABILITIES: Readonly<KmsCapabilities> = Object.freeze({
  disabledKeysRefuse: false,
  rotationChangesMaterial: false,
  keyPolicyEnforced: false,
  incorrectKeyException: false,
  listKeyRotations: true,
  faultInjection: false,
  requestCounters: false,
});

/**
 * LocalStack 4.14.0 (services/kms/provider.py): key states and rotation are modelled,
 * policies are stored but never evaluated, ListKeyRotations is not implemented (501).
 */
export const LOCALSTACK_CAPABILITIES: Readonly<KmsCapabilities> = Object.freeze({
  disabledKeysRefuse: true,
  rotationChangesMaterial: true,
  keyPolicyEnforced: false,
  incorrectKeyException: true,
  listKeyRotations: false,
  faultInjection: false,
  requestCounters: false,
});
