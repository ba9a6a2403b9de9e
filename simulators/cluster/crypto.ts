// AES-256-GCM wrapping with the ids of both keys bound as additional authenticated data:
// a wrapped key moved to another record, or presented under another parent key, fails to
// open instead of decrypting to garbage. Node `crypto` only.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SealedBox } from './model.js';

export const KEY_BYTES = 32;

export class UnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwrapError';
  }
}

/** The AAD: a purpose label then `name:value` pairs, NUL-separated (no id contains NUL). */
export function aad(purpose: string, ...pairs: [string, string][]): Buffer {
  return Buffer.from([purpose, ...pairs.map(([k, v]) => `${k}:${v}`)].join('\0'), 'utf8');
}

export function seal(key: Buffer, plaintext: Buffer, ad: Buffer): SealedBox {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(ad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

/** Opens a box; a wrong key, wrong AAD or altered byte is an UnwrapError. */
export function open(key: Buffer, box: SealedBox, ad: Buffer, what: string): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'));
    d.setAAD(ad);
    d.setAuthTag(Buffer.from(box.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(box.ct, 'base64')), d.final()]);
  } catch {
    throw new UnwrapError(`${what}: authentication failed (wrong key, wrong ids or altered bytes)`);
  }
}

export const newKey = (): Buffer => randomBytes(KEY_BYTES);

/** HKDF-SHA-256 → 32 bytes. */
export function deriveKey(secret: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, Buffer.from(info, 'utf8'), KEY_BYTES));
}

export const mekAad = (mekId: string, rmkId: string): Buffer => aad('cryptgate/mek@1', ['mek', mekId], ['rmk', rmkId]);
export const localRmkAad = (rmkId: string, rootId: string): Buffer => aad('cryptgate/rmk@1', ['rmk', rmkId], ['root', rootId]);
export const localRootAad = (rootId: string, clusterId: string): Buffer =>
  aad('cryptgate/local-root@1', ['root', rootId], ['cluster', clusterId]);
export const dataKeyAad = (extractId: string, mekId: string): Buffer =>
  aad('cryptgate/extract-key@1', ['extract', extractId], ['mek', mekId]);

export function scrub(...bufs: (Buffer | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}
