// The simulated Tableau Server cluster (KMS at rest): a persistent folder, its key hierarchy,
// its tsm/tabcmd commands and the evidence it leaves (logs, status text, key-store files).
// See README.md for the folder layout, formats and KMS request counts.
export { initCluster, SimCluster, KmsCallError } from './cluster.js';
export type { SimOptions, KmsStatusResult, ExtractInfo, OpenResult, ReencryptResult } from './cluster.js';
export { readConfig } from './config.js';
export type { InitOptions } from './config.js';
export { embeddedKmsAccess, endpointKmsAccess, parseCmkArn, rolePolicy, describeKmsError } from './kms-access.js';
export type { KmsAccess, KmsNodeIdentity, KmsFailure } from './kms-access.js';
export { formatKmsStatus } from './status-text.js';
export { readExtractHeader, EXTRACT_FORMAT, DEFAULT_CHUNK } from './extract-file.js';
export type { ExtractHeader } from './extract-file.js';
export type { BackupManifest } from './backup-file.js';
export * from './model.js';
