// The admin API under /_cryptgate/, like moto's /moto-api/: fault knobs and request
// counters for the test or simulation driving the KMS. It is unauthenticated, which is why
// the server listens on loopback only, answers loopback host names only (a page reaching us
// through DNS rebinding carries its own name) and wants a JSON content type for changes (so
// a browser must preflight, and we answer no CORS).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../../src/util/errors.js';
import type { Counters } from './counters.js';
import type { Faults } from './faults.js';
import { readBody, send } from './http-io.js';

export const ADMIN_PREFIX = '/_cryptgate/';

export interface AdminDeps {
  faults: Faults;
  counters: Counters;
}

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: string, deps: AdminDeps): Promise<void> {
  const reply = (status: number, value: unknown): void => send(res, status, JSON.stringify(value, null, 2) + '\n', 'application/json');
  // Only loopback names: a web page reaching us through DNS rebinding carries its own host name.
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) return reply(403, { error: `Host ${host}: the admin API answers loopback names only` });
  const path = url.slice(ADMIN_PREFIX.length).replace(/\?.*$/, '').replace(/\/$/, '');
  const method = req.method ?? 'GET';
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    return reply(413, { error: 'body too large' });
  }
  if (path === 'health' && method === 'GET') return reply(200, { status: 'ok', service: 'kms' });
  if (path === 'faults') {
    if (method === 'GET') return reply(200, deps.faults.snapshot());
    if (method === 'DELETE') {
      deps.faults.clear();
      return reply(200, deps.faults.snapshot());
    }
    if (method === 'POST' || method === 'PUT') {
      // A JSON content type makes browsers preflight, and we answer no CORS: pages cannot set faults.
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return reply(415, { error: 'Content-Type: expected application/json' });
      }
      try {
        deps.faults.set(JSON.parse(body.toString('utf8')));
      } catch (err) {
        if (err instanceof InputError || err instanceof SyntaxError) return reply(400, { error: err.message });
        throw err;
      }
      return reply(200, deps.faults.snapshot());
    }
  }
  if (path === 'counters') {
    if (method === 'GET') return reply(200, deps.counters.snapshot());
    if (method === 'DELETE') {
      deps.counters.reset();
      return reply(200, deps.counters.snapshot());
    }
  }
  if (path === 'counters/reset' && method === 'POST') {
    deps.counters.reset();
    return reply(200, deps.counters.snapshot());
  }
  return reply(404, {
    error: `${method} ${url}: not an admin endpoint`,
    endpoints: ['GET health', 'GET|POST|DELETE faults', 'GET|DELETE counters', 'POST counters/reset'],
  });
}
