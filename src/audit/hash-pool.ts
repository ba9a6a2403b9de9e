// SHA-256 of every evidence file, computed in one long-lived worker thread while the main
// thread parses, so hashing overlaps with reading (one worker per file would cost a thread
// start-up each; a folder of rotated logs has thousands of files).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { sha256FileSync } from '../util/file-hash.js';

interface Request {
  id: number;
  path: string;
}

type Reply = { id: number; digest: string } | { id: number; error: string };

export class HashPool {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (d: string) => void; reject: (e: Error) => void }>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL(import.meta.url), { workerData: { hashPool: true } });
    w.on('message', (r: Reply) => {
      const p = this.waiting.get(r.id);
      if (!p) return;
      this.waiting.delete(r.id);
      if ('digest' in r) p.resolve(r.digest);
      else p.reject(new Error(r.error));
    });
    w.on('error', (err) => this.failAll(err));
    w.on('exit', (code) => {
      if (code !== 0) this.failAll(new Error(`hash worker exited with ${code}`));
      this.worker = undefined;
    });
    // Let the process exit while the worker idles; a pending hash keeps it alive (ref on demand).
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }

  /** Hex SHA-256 of the file's bytes as stored. */
  hash(path: string): Promise<string> {
    const w = this.start();
    const id = this.nextId++;
    const done = new Promise<string>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    w.ref();
    w.postMessage({ id, path } satisfies Request);
    return done.finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

if (!isMainThread && parentPort && (workerData as { hashPool?: boolean } | null)?.hashPool === true) {
  const port = parentPort;
  port.on('message', (m: Request) => {
    try {
      port.postMessage({ id: m.id, digest: sha256FileSync(m.path) } satisfies Reply);
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message } satisfies Reply);
    }
  });
}
