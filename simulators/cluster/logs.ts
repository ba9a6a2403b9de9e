// Logs as Tableau Server writes them (research/kms.md §1.6), one folder per node:
//   logs/node<N>/vizqlserver_node<N>-0.log        Java, multi-line (stack traces continue a line)
//   logs/node<N>/backgrounder_node<N>-0.log       Java, multi-line
//   logs/node<N>/tabadmincontroller_node<N>-0.log Java (initial node: TSM jobs)
//   logs/node<N>/nativeapi_vizqlserver_<N>-0_<YYYY_MM_DD_00_00_00>.txt  JSON per line
// Java line:  2024-05-01 10:00:00.123 +0000 (site,user,data_sess,vql_sess,job_id,:job_type,req_id) thread service: INFO  class - message
// (LogShark's BackgrounderEventParser regex reads it). The KMS-7 messages come from
// AwsKmsEncryptionEnvelopeAccessor / AwsKmsEncryptionEnvelope; their package names are ours
// (the documentation gives only the class names). Only ids ever reach a log, never a key.
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from './fs-safe.js';
import { LAYOUT } from './model.js';

export const CLASSES = {
  awsAccessor: 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor',
  awsEnvelope: 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelope',
  localAccessor: 'com.tableausoftware.security.kms.local.LocalKmsEncryptionEnvelopeAccessor',
  localEnvelope: 'com.tableausoftware.security.kms.local.LocalKmsEncryptionEnvelope',
  jobRunner: 'com.tableausoftware.backgrounder.runner.BackgroundJobRunner',
  extractEncryption: 'com.tableausoftware.extract.encryption.ExtractEncryptionService',
  serviceLifecycle: 'com.tableausoftware.core.lifecycle.ServiceLifecycle',
  tsmKms: 'com.tableausoftware.tabadmin.webapp.kms.KmsConfigurationService',
  tsmBackup: 'com.tableausoftware.tabadmin.webapp.backup.BackupRestoreService',
} as const;

export type JavaService = 'vizqlserver' | 'backgrounder' | 'tabadmincontroller';
export type Level = 'INFO' | 'WARN' | 'ERROR' | 'DEBUG';

export interface LogContext {
  site?: string;
  user?: string;
  jobId?: number | string;
  jobType?: string;
  req?: string;
  thread?: string;
}

const THREADS: Record<JavaService, string> = {
  vizqlserver: 'main',
  backgrounder: 'scheduled-background-job-runner-1',
  tabadmincontroller: 'pool-2-thread-1',
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `2024-05-01 10:00:00.123 +0000` */
export function javaTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} +0000`;
}

/** `2024-05-01T10:00:00.123` (native logs: no zone, milliseconds). */
export function nativeTimestamp(d: Date): string {
  return d.toISOString().replace(/Z$/, '');
}

export const newRequestId = (): string => randomBytes(12).toString('base64url');

export function nodeNumber(node: string): number {
  const m = /(\d+)$/.exec(node);
  return m ? Number(m[1]) : 1;
}

export class ClusterLogs {
  constructor(
    private readonly dir: string,
    private readonly now: () => Date,
  ) {}

  folder(node: string): string {
    return join(this.dir, LAYOUT.logsDir, node);
  }

  javaFile(node: string, service: JavaService): string {
    return join(this.folder(node), `${service}_node${nodeNumber(node)}-0.log`);
  }

  nativeFile(node: string, when: Date): string {
    const day = `${when.getUTCFullYear()}_${pad(when.getUTCMonth() + 1)}_${pad(when.getUTCDate())}_00_00_00`;
    return join(this.folder(node), `nativeapi_vizqlserver_${nodeNumber(node)}-0_${day}.txt`);
  }

  /** One Java log event; `continuation` lines (a stack trace) follow it unprefixed. */
  java(node: string, service: JavaService, level: Level, cls: string, message: string, ctx: LogContext = {}, continuation: string[] = []): void {
    const t = this.now();
    const c = `(${ctx.site ?? ''},${ctx.user ?? ''},,,${ctx.jobId ?? ''},:${ctx.jobType ?? ''},${ctx.req ?? '-'})`;
    const line = `${javaTimestamp(t)} ${c} ${ctx.thread ?? THREADS[service]} ${service}: ${level.padEnd(5)} ${cls} - ${oneLine(message)}\n`;
    const rest = continuation.map((l) => `${oneLine(l)}\n`).join('');
    this.append(this.javaFile(node, service), line + rest);
  }

  /** One native (JSON-lines) vizqlserver event. */
  native(node: string, sev: 'info' | 'warn' | 'error', k: string, v: Record<string, unknown>, ctx: LogContext = {}): void {
    const t = this.now();
    const rec = {
      ts: nativeTimestamp(t),
      pid: 4000 + nodeNumber(node),
      tid: (0x1a00 + nodeNumber(node)).toString(16),
      sev,
      req: ctx.req ?? '-',
      sess: '-',
      site: ctx.site ?? '-',
      user: ctx.user ?? '-',
      k,
      v,
    };
    this.append(this.nativeFile(node, t), `${JSON.stringify(rec)}\n`);
  }

  private append(file: string, text: string): void {
    ensureDir(join(file, '..'), 0o755);
    // One write call per event with O_APPEND: a kill leaves whole events, or (rarely) a cut last line.
    appendFileSync(file, text, { mode: 0o644 });
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** The AWS SDK for Java's way of appending the service error to an exception message. */
export function awsErrorSuffix(code: string, status: number | undefined, requestId: string | undefined): string {
  return `(Service: AWSKMS; Status Code: ${status ?? 400}; Error Code: ${code}; Request ID: ${requestId ?? '-'})`;
}

/** A short Java stack trace for KMS failures, as the multi-line reader must cope with. */
export function kmsStackTrace(code: string, message: string, status: number | undefined, requestId: string | undefined, op: string): string[] {
  return [
    `com.amazonaws.services.kms.model.AWSKMSException: ${message} ${awsErrorSuffix(code, status, requestId)}`,
    '\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)',
    `\tat com.amazonaws.services.kms.AWSKMSClient.execute${op}(AWSKMSClient.java:2237)`,
    `\tat ${CLASSES.awsAccessor}.decryptRootMasterKey(AwsKmsEncryptionEnvelopeAccessor.java:118)`,
  ];
}
