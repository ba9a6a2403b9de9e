// The HTTP front door: AWS KMS's JSON 1.1 protocol on 127.0.0.1, so @aws-sdk/client-kms,
// the AWS CLI or boto3 talk to it unchanged through an endpoint URL.
//   POST /  X-Amz-Target: TrentService.<Operation>  Content-Type: application/x-amz-json-1.1
//   → 200 JSON, or 4xx/5xx {"__type": "<Code>", "message": "…"}
// A request is authenticated (SigV4), counted, passed through the fault knobs, then handled.
// Plus a small admin API under /_cryptgate/ (faults, counters, health), like moto's
// /moto-api/: unauthenticated, which is why the server only listens on loopback.
// Nothing here logs a request or response body: bodies carry plaintext and data keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError } from '../../src/util/errors.js';
import { ADMIN_PREFIX, handleAdmin } from './admin-api.js';
import type { Caller, CallerTable } from './callers.js';
import { ANONYMOUS, type Counters } from './counters.js';
import { KmsError, internalError } from './errors.js';
import type { Faults } from './faults.js';
import type { KeyStore } from './key-store.js';
import { NOT_MODELLED, OPERATIONS, type OpContext } from './ops/index.js';
import { Params } from './params.js';
import { verifySignature } from './sigv4.js';
import { MAX_BODY, readBody, send, TooLarge } from './http-io.js';

const THROTTLE_MESSAGE = 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.';

export interface ServerDeps {
  store: KeyStore;
  callers: CallerTable;
  faults: Faults;
  counters: Counters;
  /** The key clock (rotation and deletion dates). SigV4's skew check always uses the wall clock. */
  now: () => number;
  /** Saves the state (no-op in memory). */
  persist: () => void;
  /** One line per request: operation, principal, status, error code. Never bodies. */
  log?: ((line: string) => void) | undefined;
}

const sendError = (res: ServerResponse, err: KmsError): void =>
  send(res, err.status, JSON.stringify({ __type: err.code, message: err.message }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class KmsHttpServer {
  private readonly server: Server;
  private readonly hung = new Set<ServerResponse>();
  private port = 0;

  constructor(private readonly deps: ServerDeps) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug, not a client mistake: say so without leaking details into the response.
        this.deps.log?.(`internal error: ${(err as Error).stack ?? String(err)}`);
        sendError(res, internalError('The request could not be processed.'));
      });
    });
    // Keep-alive sockets must not hold stop() open.
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          err.code === 'EADDRINUSE'
            ? new EnvironmentError(`127.0.0.1:${port}: port in use; choose another with --port (0 picks a free one)`)
            : new EnvironmentError(`127.0.0.1:${port}: cannot listen: ${err.message}`),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Stops listening and drops every connection, hung ones included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const res of this.hung) res.destroy();
      this.hung.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url.startsWith(ADMIN_PREFIX)) return handleAdmin(req, res, url, this.deps);
    if (req.method !== 'POST') {
      send(res, 404, JSON.stringify({ message: 'This is an AWS KMS endpoint: POST / with X-Amz-Target: TrentService.<Operation>' }), 'application/json');
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof TooLarge) return sendError(res, new KmsError('SerializationException', `Request body over ${MAX_BODY} bytes`, 413));
      throw err;
    }

    const target = req.headers['x-amz-target'];
    const opName = typeof target === 'string' && target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : undefined;
    const counted = opName ?? (typeof target === 'string' ? target : '(no X-Amz-Target)');
    const started = Date.now();

    let caller: Caller;
    let region: string;
    try {
      const callers = this.deps.callers;
      const sig = verifySignature({ method: req.method, url, rawHeaders: req.rawHeaders, body }, (k) => callers.secretFor(k), Date.now());
      if (!callers.sessionTokenOk(sig.accessKeyId, sig.sessionToken)) {
        throw new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      }
      caller = callers.callerFor(sig.accessKeyId);
      region = sig.region;
    } catch (err) {
      if (!(err instanceof KmsError)) throw err;
      this.deps.counters.count(counted, ANONYMOUS);
      this.finish(res, counted, ANONYMOUS, started, err);
      return;
    }
    this.deps.counters.count(counted, caller.principalArn);

    const fault = this.deps.faults.decide(counted);
    const latency = this.deps.faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (fault.kind === 'hang') {
      // Never answer: the client's own timeout is what is under test. stop() drops it.
      this.deps.counters.fault('hangs');
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      this.deps.log?.(`${counted} ${caller.principalArn} (hanging, by fault)`);
      return;
    }
    if (fault.kind === 'outage') {
      this.deps.counters.fault('outages');
      const err =
        fault.status === 503
          ? new KmsError('ServiceUnavailableException', 'Service Unavailable', 503)
          : internalError('We encountered an internal error. Please try again.');
      return this.finish(res, counted, caller.principalArn, started, err);
    }
    if (fault.kind === 'throttle') {
      this.deps.counters.fault('throttled');
      return this.finish(res, counted, caller.principalArn, started, new KmsError('ThrottlingException', THROTTLE_MESSAGE));
    }

    try {
      const op = opName === undefined ? undefined : OPERATIONS.get(opName);
      if (!op && opName !== undefined && NOT_MODELLED.has(opName)) {
        throw new KmsError('UnsupportedOperationException', `${opName} is not supported by the cryptgate embedded KMS.`);
      }
      // AWS's coral front door answers unknown targets this way (the SDK strips the namespace).
      if (!op) throw new KmsError('com.amazon.coral.service#UnknownOperationException', `Unknown operation ${typeof target === 'string' ? target : '(no X-Amz-Target header)'}`);
      let parsed: unknown;
      try {
        parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new KmsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new KmsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      const now = this.deps.now();
      // Time-driven changes (automatic rotation, end of a deletion window) before the request sees the keys.
      let dirty = this.deps.store.sweep(now);
      const ctx: OpContext = {
        operation: opName!,
        caller,
        scope: { accountId: caller.accountId, region },
        store: this.deps.store,
        now,
        params: new Params(parsed as Record<string, unknown>),
        changed: () => {
          dirty = true;
        },
      };
      let result: Record<string, unknown> | undefined;
      try {
        result = await op(ctx);
      } finally {
        if (dirty) this.save();
      }
      send(res, 200, result === undefined ? '' : JSON.stringify(result));
      this.deps.log?.(`${counted} ${caller.principalArn} 200 ${Date.now() - started}ms`);
    } catch (err) {
      if (!(err instanceof KmsError)) throw err;
      this.finish(res, counted, caller.principalArn, started, err);
    }
  }

  private save(): void {
    try {
      this.deps.persist();
    } catch (err) {
      this.deps.log?.(`state could not be saved: ${(err as Error).message}`);
      throw internalError('The key state could not be saved.');
    }
  }

  private finish(res: ServerResponse, op: string, principal: string, started: number, err: KmsError): void {
    sendError(res, err);
    this.deps.log?.(`${op} ${principal} ${err.status} ${err.code} ${Date.now() - started}ms`);
  }
}
