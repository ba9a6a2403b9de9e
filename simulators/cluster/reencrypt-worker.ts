// Worker thread entry for re-encryption (see ReencryptionWorker in extract-file.ts). Why a
// worker: the cipher loop allocates two 1 MiB buffers per chunk (Node's cipher API returns
// new ones). In the thread that holds the whole CLI (the AWS SDK, the KMS, the cluster), V8's
// young generation has grown large and each young GC then starts a full mark-compact of that
// heap: measured, dozens of full GCs per GB and a third of the job's CPU. A worker's heap
// holds only this loop, so its GCs stay as cheap as a bare cipher loop's.
//
// Messages in: { id, job: BodyJob without the keys, oldKey: ArrayBuffer, newKey: ArrayBuffer }
// (the keys transferred, not copied; scrubbed here after use). Out, per job: { id, stage:
// 'streamed' } then { id, stage: 'synced' }, or { id, stage: 'failed', message, format }.
import { parentPort } from 'node:worker_threads';
import { BodyFormatError, reencryptBody, type BodyJob } from './reencrypt-body.js';

export interface WorkerRequest {
  id: number;
  job: Omit<BodyJob, 'oldKey' | 'newKey'>;
  oldKey: ArrayBuffer;
  newKey: ArrayBuffer;
}

export type WorkerReply = { id: number; stage: 'streamed' | 'synced' } | { id: number; stage: 'failed'; message: string; format: boolean };

const port = parentPort;
if (port) {
  port.on('message', (m: WorkerRequest) => {
    const fail = (err: unknown): void => {
      port.postMessage({ id: m.id, stage: 'failed', message: (err as Error)?.message ?? String(err), format: err instanceof BodyFormatError } satisfies WorkerReply);
    };
    let run: ReturnType<typeof reencryptBody>;
    try {
      run = reencryptBody({ ...m.job, oldKey: Buffer.from(m.oldKey), newKey: Buffer.from(m.newKey) });
    } catch (err) {
      new Uint8Array(m.oldKey).fill(0);
      new Uint8Array(m.newKey).fill(0);
      fail(err);
      return;
    }
    run.streamed.then(
      () => port.postMessage({ id: m.id, stage: 'streamed' } satisfies WorkerReply),
      () => {}, // reported once, through `synced`
    );
    run.synced.then(() => port.postMessage({ id: m.id, stage: 'synced' } satisfies WorkerReply), fail);
  });
}
