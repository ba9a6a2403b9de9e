// A small, hand-written evidence folder in the shapes real servers and the AWS CLI leave:
// three nodes' Java and native logs (node3 refused by KMS: the KMS-8 pitfall), the status
// output of the initial node (says OK), the key policy and role policies, and optionally a
// capture from the strongSwan fixtures. Each piece can be changed by the test that needs to.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-info.js';

export const ACCOUNT = '111122223333';
export const CMK = `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const OTHER_CMK = `arn:aws:kms:us-west-2:${ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab`;
export const RMK = 'c4d7e3b2-1111-4222-8333-944455556666';
export const MEK_OLD = '8ddd70df-be67-4dbf-9c35-1f0aa2421521';
export const MEK_NEW = '9eee70df-be67-4dbf-9c35-1f0aa2421522';
export const CAPTURES = join(packageRoot(), 'test/fixtures/captures/strongswan');
export const CAPTURE_NODES = ['10.77.0.11', '10.77.0.12', '10.77.0.13'];

export function statusText(o: { cmk?: string; region?: string; ok?: boolean; meks?: string } = {}): string {
  const meks =
    o.meks ??
    `  MEK ID: ${MEK_OLD}
    State: decryption-only
    Created at: 2024-01-10T10:00:00Z
    First transition to encrypt/decrypt: 2024-01-10T10:00:00Z
    Transition to decrypt-only: 2024-05-01T09:00:00Z
  MEK ID: ${MEK_NEW}
    State: encryption/decryption
    Created at: 2024-05-01T09:00:00Z
    First transition to encrypt/decrypt: 2024-05-01T09:00:00Z
    Transition to decrypt-only: none
`;
  return `KMS mode: AWS
Customer master key (CMK) ARN: ${o.cmk ?? CMK}
Region: ${o.region ?? 'us-west-2'}
Root master key (RMK) ID in use: ${RMK}
Master extract keys (MEKs): 2
${meks}Checked on: node1 (initial node, Tableau Server Administration Controller)
Status: ${o.ok === false ? 'ERROR: node1 (role r): kms:Decrypt failed: DisabledException' : 'OK'}
`;
}

const java = (ts: string, level: string, cls: string, msg: string): string => `2024-05-01 ${ts} +0000 (,,,,,:,-) main vizqlserver: ${level}  ${cls} - ${msg}`;
const ACCESSOR = 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor';

export function reachedLog(cmk = CMK): string {
  return [
    java('09:00:01.000', 'INFO', 'com.tableausoftware.vizql.Session', 'session started'),
    java('09:00:02.000', 'INFO', ACCESSOR, `Decrypted RMK with ID ${RMK} using CMK with ARN ${cmk}`),
    java('09:00:02.001', 'INFO', 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelope', `Using RMK with ID ${RMK} to decrypt KMS storage`),
    '',
  ].join('\n');
}

export function refusedLog(role = 'tableau-node3'): string {
  const err = `User: arn:aws:sts::${ACCOUNT}:assumed-role/${role}/i-0abc is not authorized to perform: kms:Decrypt on resource: ${CMK}`;
  return [
    java('09:00:02.000', 'ERROR', ACCESSOR, `Failed to decrypt RMK with ID ${RMK} using CMK with ARN ${CMK}: ${err} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: r-1)`),
    `com.amazonaws.services.kms.model.AWSKMSException: ${err}`,
    '\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)',
    java('09:00:02.001', 'ERROR', 'com.tableausoftware.core.lifecycle.ServiceLifecycle', 'Service failed to start: KMS storage unavailable'),
    '',
  ].join('\r\n');
}

export const nativeOpen = (cmk = CMK): string =>
  `${JSON.stringify({ ts: '2024-05-01T09:00:03.000', pid: 1, tid: '1', sev: 'info', req: '-', sess: '-', site: '-', user: '-', k: 'kms-storage-open', v: { mode: 'aws', 'rmk-id': RMK, 'cmk-arn': cmk } })}\n`;

export function keyPolicy(roles: string[], extra: object[] = []): object {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'Tableau nodes', Effect: 'Allow', Principal: { AWS: roles.map((r) => `arn:aws:iam::${ACCOUNT}:role/${r}`) }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' },
      ...extra,
    ],
  };
}

export function rolePolicy(role: string, actions: string[] = ['kms:GenerateDataKey', 'kms:Decrypt'], resource: string = CMK): object {
  return { RoleName: role, PolicyName: 'tableau-kms', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] } };
}

export interface EvidenceOptions {
  capture?: string | false;
  node3Refused?: boolean;
}

/**
 * Writes the folder. File names are deliberately unhelpful where a real auditor's might be
 * (status as `out1.txt`, the key policy as `policy.dat`): discovery goes by content.
 */
export function writeEvidenceFolder(dir: string, o: EvidenceOptions = {}): void {
  for (const n of ['node1', 'node2', 'node3']) mkdirSync(join(dir, 'logs', n), { recursive: true });
  writeFileSync(join(dir, 'out1.txt'), statusText());
  writeFileSync(join(dir, 'logs', 'node1', 'vizqlserver_node1-0.log'), reachedLog());
  writeFileSync(join(dir, 'logs', 'node2', 'vizqlserver_node2-0.log'), reachedLog());
  writeFileSync(join(dir, 'logs', 'node2', 'nativeapi_vizqlserver_2-0_2024_05_01_00_00_00.txt'), nativeOpen());
  writeFileSync(join(dir, 'logs', 'node3', 'vizqlserver_node3-0.log'), o.node3Refused === false ? reachedLog() : refusedLog());
  writeFileSync(join(dir, 'policy.dat'), JSON.stringify({ Policy: JSON.stringify(keyPolicy(['tableau-node1', 'tableau-node2', 'tableau-node3'])), PolicyName: 'default' }, null, 2));
  mkdirSync(join(dir, 'iam'), { recursive: true });
  for (const n of [1, 2, 3]) writeFileSync(join(dir, 'iam', `role${n}.json`), JSON.stringify(rolePolicy(`tableau-node${n}`), null, 2));
  if (o.capture !== false) copyFileSync(join(CAPTURES, o.capture ?? 'compliant.pcap'), join(dir, 'switch-port.bin'));
}
