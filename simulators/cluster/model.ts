// The simulated cluster's persistent shapes. Two JSON files hold all of it:
//   cluster.json          topology, licence, nodes, services, sites, job counter
//   keystore/kms.json     the KMS storage: mode, CMK, the RMK (wrapped), the MEKs (wrapped)
// Each is replaced atomically; a change that spans several files goes through a journal
// (see journal.ts), so `kill -9` at any point leaves a state the next command can use.

export const CLUSTER_FORMAT = 'cryptgate/cluster@1';
export const KMS_STORAGE_FORMAT = 'cryptgate/kms-storage@1';
export const LOCAL_KEYSTORE_FORMAT = 'cryptgate/local-keystore@1';

export type Licence = 'advanced-management' | 'none';
export type Platform = 'ec2' | 'on-prem' | 'azure';
export const LICENCES: readonly Licence[] = ['advanced-management', 'none'];
export const PLATFORMS: readonly Platform[] = ['ec2', 'on-prem', 'azure'];

export const SERVICES = ['gateway', 'vizqlserver', 'backgrounder', 'dataserver', 'filestore', 'repository'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** The services that open KMS storage (they decrypt the RMK at start) and fail without it. */
export const KMS_SERVICES: readonly ServiceName[] = ['vizqlserver', 'backgrounder', 'dataserver'];
export type ServiceState = 'Running' | 'Error' | 'Stopped';

export interface ServiceStatus {
  state: ServiceState;
  /** Why it is in Error (never a key). */
  message?: string;
}

export interface InstanceRole {
  name: string;
  /** What the role's IAM policy allows on the CMK (KMS-3). */
  allowsGenerateDataKey: boolean;
  allowsDecrypt: boolean;
  /**
   * The CMK the role's IAM policy names as its Resource (KMS-3: those actions on that key
   * only), once the AWS administrator has scoped it (`setNodeRole(node, {kmsKeyArn})`).
   * Absent: any key ("*"), as a role set up before any CMK was chosen.
   */
  kmsKeyArn?: string;
}

export interface NodeConfig {
  name: string;
  platform: Platform;
  role: InstanceRole;
  /** The initial node runs the Tableau Server Administration Controller (TSM). */
  adminController: boolean;
  services: Record<ServiceName, ServiceStatus>;
}

/** Where the simulator reaches AWS KMS from the command line (library callers pass a KmsAccess). */
export type KmsBackendConfig =
  | { kind: 'embedded'; stateDir: string }
  | { kind: 'endpoint'; url: string };

export interface ClusterConfig {
  format: typeof CLUSTER_FORMAT;
  clusterId: string;
  createdAt: string;
  licence: Licence;
  /** The cluster's own region (EC2 instances); set-mode aws names the CMK's. */
  region: string;
  initialNode: string;
  nodes: NodeConfig[];
  sites: string[];
  server: 'running' | 'stopped';
  nextJobId: number;
  kmsBackend: KmsBackendConfig;
}

export type KmsMode = 'local' | 'aws';
export type MekState = 'encryption/decryption' | 'decryption-only';

export interface SealedBox {
  /** base64 of 12 bytes */
  iv: string;
  /** base64 of 16 bytes */
  tag: string;
  /** base64 */
  ct: string;
}

export interface RmkRecord {
  id: string;
  createdAt: string;
  /**
   * aws: `blob` is the CiphertextBlob GenerateDataKey returned (base64), opened only by KMS
   * Decrypt under `cmkArn` with `encryptionContext`. local: `sealed` is the RMK under the
   * local keystore root `rootId`.
   */
  wrappedBy: 'aws-kms' | 'local-keystore';
  blob?: string;
  cmkArn?: string;
  region?: string;
  encryptionContext?: Record<string, string>;
  sealed?: SealedBox;
  rootId?: string;
}

export interface MekRecord {
  id: string;
  state: MekState;
  createdAt: string;
  firstEncryptDecryptAt: string | null;
  decryptOnlyAt: string | null;
  /** The RMK this MEK is wrapped under (also bound into the wrap as AAD). */
  rmkId: string;
  sealed: SealedBox;
  /** Set on MEKs imported by a restore: the backup they came from. */
  importedFrom?: string;
}

export interface KmsStorage {
  format: typeof KMS_STORAGE_FORMAT;
  mode: KmsMode;
  aws: { cmkArn: string; region: string } | null;
  rmk: RmkRecord;
  meks: MekRecord[];
  /** Bumped on every change; a cheap way for a reader to see that storage moved. */
  generation: number;
  updatedAt: string;
}

export interface LocalKeystore {
  format: typeof LOCAL_KEYSTORE_FORMAT;
  rootId: string;
  createdAt: string;
  /** The HKDF salt (base64) the wrapping key is derived with from cluster.secret. */
  salt: string;
  sealedRoot: SealedBox;
}

/** The folder layout, relative to the cluster folder. */
export const LAYOUT = {
  cluster: 'cluster.json',
  keystoreDir: 'keystore',
  secret: 'keystore/cluster.secret',
  localKeystore: 'keystore/local-keystore.json',
  kmsStorage: 'keystore/kms.json',
  extractsDir: 'extracts',
  logsDir: 'logs',
  jobsDir: 'jobs',
  restoreStaging: '.restore-staging',
  restoreJournal: 'jobs/restore.journal.json',
  defaultKmsState: 'aws-kms',
} as const;

export const SERVICE_TITLES: Record<ServiceName, string> = {
  gateway: 'Tableau Server Gateway',
  vizqlserver: 'Tableau Server VizQL Server',
  backgrounder: 'Tableau Server Backgrounder',
  dataserver: 'Tableau Server Data Server',
  filestore: 'Tableau Server File Store',
  repository: 'Tableau Server Repository',
};
