// Every operation the embedded KMS answers, by its X-Amz-Target name (TrentService.<Name>).
import type { Operation } from './context.js';
import { aliasOperations } from './aliases.js';
import { cryptoOperations } from './crypto.js';
import { keyOperations } from './keys.js';
import { policyOperations } from './policies.js';
import { rotationOperations } from './rotation.js';
import { signatureOperations } from './signatures.js';

export const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  Object.entries({
    ...keyOperations,
    ...aliasOperations,
    ...cryptoOperations,
    ...rotationOperations,
    ...policyOperations,
    ...signatureOperations,
  }),
);

/**
 * Real KMS operations this simulator does not model. They answer UnsupportedOperationException,
 * so a caller can tell "not here" from a typo (UnknownOperationException).
 */
export const NOT_MODELLED: ReadonlySet<string> = new Set([
  'ConnectCustomKeyStore', 'CreateCustomKeyStore', 'CreateGrant', 'Decapsulate', 'DeleteCustomKeyStore',
  'DeleteImportedKeyMaterial', 'DeriveSharedSecret', 'DescribeCustomKeyStores', 'DisconnectCustomKeyStore',
  'Encapsulate', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateMac', 'GetKeyLastUsage',
  'GetParametersForImport', 'ImportKeyMaterial', 'ListGrants', 'ListRetirableGrants', 'ReplicateKey',
  'RetireGrant', 'RevokeGrant', 'UpdateCustomKeyStore', 'UpdatePrimaryRegion', 'VerifyMac',
]);

export type { Operation, OpContext } from './context.js';
