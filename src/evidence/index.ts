// Evidence readers: files a cluster (real or simulated) leaves, read into facts for rules.
export { parseKmsStatus, readKmsStatus } from './kms-status.js';
export type { KmsStatusEvidence, MekEvidence, MekStateEvidence } from './kms-status.js';
export { JavaLogParser, NativeLogParser, classifyLogFile, classifyMessage, readTableauLog, readTableauLogFolder } from './tableau-logs.js';
export type { KmsLogEvent, KmsEventKind, LogReadResult, LogFileInfo, LogSource, ParseOptions } from './tableau-logs.js';
export { parseKmsStorage, parseExtractHeader, readExtractHeaderEvidence, readKeyStore, readBackupManifest, summarize } from './key-store.js';
export type { KeyStoreEvidence, KmsStorageEvidence, MekRecordEvidence, ExtractHeaderEvidence, BackupEvidence } from './key-store.js';
export { LineFormatError, splitLines, readLines } from './lines.js';
