// A small GET over node:http(s), for admin paths (/_cryptgate/health, /_localstack/health,
// /moto-api/). Not fetch(): fetch refuses "bad ports" (9, 6000, 6665–6669, 10080…) that a
// free-port pick or a user's endpoint can land on, and hides the socket error code
// (ECONNREFUSED…) behind "fetch failed".
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpGetResult {
  status: number;
  text: string;
}

/** GETs `url`; rejects with the socket error (its `code` intact) or a TimeoutError. Reads at most `maxBytes`. */
export function httpGet(url: string, timeoutMs = 5000, maxBytes = 1 << 20): Promise<HttpGetResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', headers: { accept: 'application/json, text/html;q=0.9, */*;q=0.5' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < maxBytes) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => {
      const err = new Error(`no answer from ${u.origin} within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    });
    req.on('error', reject);
    req.end();
  });
}
