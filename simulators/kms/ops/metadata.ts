// KeyMetadata as CreateKey and DescribeKey return it.
import { currentMaterial, signingAlgorithms, type KmsKey } from '../model.js';
import { epochSeconds } from '../params.js';

export function keyMetadata(key: KmsKey): Record<string, unknown> {
  const symmetric = key.keySpec === 'SYMMETRIC_DEFAULT';
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    ...(key.deletionAt !== undefined ? { DeletionDate: epochSeconds(key.deletionAt) } : {}),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...(symmetric ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : { SigningAlgorithms: signingAlgorithms(key.keySpec) }),
    MultiRegion: false,
    ...(symmetric ? { CurrentKeyMaterialId: currentMaterial(key)?.id } : {}),
  };
}
