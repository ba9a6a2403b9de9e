// The state file's JSON shape, to and from the in-memory key store. Secrets are wrapped
// with at-rest.ts on the way out and unwrapped on the way in; everything else (metadata,
// policies, tags, rotation history, public keys) is plain so a person can read the file.
//
// { "format": "cryptgate-kms-state@1", "protection": {…},
//   "keys": [{ "keyId", "accountId", "region", "arn", "createdAt", "description", "keyUsage",
//              "keySpec", "state", "deletionAt"?, "pendingWindowInDays"?, "policy", "tags",
//              "rotation": { "enabled", "periodDays", "nextRotationAt"?, "onDemandCount" },
//              "materials": [{ "id", "createdAt", "rotationType"?, "wrapped" }],
//              "privateKey"?: { "wrapped" }, "publicKey"?: base64 SPKI }],
//   "aliases": [{ "aliasName", "accountId", "region", "targetKeyId", "createdAt", "updatedAt" }] }
// Times are ISO-8601 strings.
import { createPrivateKey } from 'node:crypto';
import { InputError } from '../../src/util/errors.js';
import { unwrap, wrap, type Protection } from './at-rest.js';
import { KeyStore } from './key-store.js';
import { KEY_SPECS, type KmsAlias, type KmsKey } from './model.js';

export const STATE_FORMAT = 'cryptgate-kms-state@1';

const materialAad = (arn: string, materialId: string): string => `cryptgate-kms/v1\u0000${arn}\u0000${materialId}`;
const privateKeyAad = (arn: string): string => `cryptgate-kms/v1\u0000${arn}\u0000private-key`;
const iso = (ms: number): string => new Date(ms).toISOString();

export function encodeState(store: KeyStore, master: Buffer, protection: Protection): string {
  const keys = store.allKeys().map((k) => ({
    keyId: k.keyId,
    accountId: k.accountId,
    region: k.region,
    arn: k.arn,
    createdAt: iso(k.createdAt),
    description: k.description,
    keyUsage: k.keyUsage,
    keySpec: k.keySpec,
    state: k.state,
    ...(k.deletionAt !== undefined ? { deletionAt: iso(k.deletionAt) } : {}),
    ...(k.pendingWindowInDays !== undefined ? { pendingWindowInDays: k.pendingWindowInDays } : {}),
    policy: k.policy,
    tags: k.tags,
    rotation: {
      enabled: k.rotation.enabled,
      periodDays: k.rotation.periodDays,
      ...(k.rotation.nextRotationAt !== undefined ? { nextRotationAt: iso(k.rotation.nextRotationAt) } : {}),
      onDemandCount: k.rotation.onDemandCount,
    },
    materials: k.materials.map((m) => ({
      id: m.id,
      createdAt: iso(m.createdAt),
      ...(m.rotationType ? { rotationType: m.rotationType } : {}),
      wrapped: wrap(master, materialAad(k.arn, m.id), m.secret),
    })),
    ...(k.privateKey
      ? {
          privateKey: { wrapped: wrapPrivateKey(master, k) },
          publicKey: k.publicKeyDer?.toString('base64'),
        }
      : {}),
  }));
  const aliases = store.allAliases().map((a) => ({ ...a, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt) }));
  return JSON.stringify({ format: STATE_FORMAT, protection, keys, aliases }, null, 2) + '\n';
}

function wrapPrivateKey(master: Buffer, k: KmsKey): string {
  const der = k.privateKey!.export({ type: 'pkcs8', format: 'der' });
  try {
    return wrap(master, privateKeyAad(k.arn), der);
  } finally {
    der.fill(0);
  }
}

/** Reads the protection record first: the master key depends on it. */
export function readProtection(file: string, doc: unknown): Protection {
  const r = new Reader(file);
  const root = r.obj(doc, '');
  if (root.format !== STATE_FORMAT) throw new InputError(`${file}: format: expected "${STATE_FORMAT}", found ${JSON.stringify(root.format)}`);
  const p = r.obj(root.protection, 'protection');
  const scheme = r.oneOf(p.scheme, 'protection.scheme', ['key-file', 'passphrase'] as const);
  const out: Protection = { scheme, check: r.str(p.check, 'protection.check') };
  if (p.salt !== undefined) out.salt = r.str(p.salt, 'protection.salt');
  if (p.scrypt !== undefined) {
    const s = r.obj(p.scrypt, 'protection.scrypt');
    out.scrypt = { N: r.int(s.N, 'protection.scrypt.N'), r: r.int(s.r, 'protection.scrypt.r'), p: r.int(s.p, 'protection.scrypt.p') };
  }
  return out;
}

export function decodeState(file: string, doc: unknown, master: Buffer): KeyStore {
  const r = new Reader(file);
  const root = r.obj(doc, '');
  const store = new KeyStore();
  r.arr(root.keys, 'keys').forEach((raw, i) => {
    const at = `keys[${i}]`;
    const k = r.obj(raw, at);
    const arn = r.str(k.arn, `${at}.arn`);
    const rot = r.obj(k.rotation, `${at}.rotation`);
    const key: KmsKey = {
      keyId: r.str(k.keyId, `${at}.keyId`),
      accountId: r.str(k.accountId, `${at}.accountId`),
      region: r.str(k.region, `${at}.region`),
      arn,
      createdAt: r.time(k.createdAt, `${at}.createdAt`),
      description: r.str(k.description, `${at}.description`),
      keyUsage: r.oneOf(k.keyUsage, `${at}.keyUsage`, ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] as const),
      keySpec: r.oneOf(k.keySpec, `${at}.keySpec`, KEY_SPECS),
      state: r.oneOf(k.state, `${at}.state`, ['Enabled', 'Disabled', 'PendingDeletion'] as const),
      policy: r.str(k.policy, `${at}.policy`),
      tags: r.arr(k.tags, `${at}.tags`).map((t, j) => {
        const tag = r.obj(t, `${at}.tags[${j}]`);
        return { TagKey: r.str(tag.TagKey, `${at}.tags[${j}].TagKey`), TagValue: r.str(tag.TagValue, `${at}.tags[${j}].TagValue`) };
      }),
      rotation: {
        enabled: r.bool(rot.enabled, `${at}.rotation.enabled`),
        // Range-checked: a period of 0 would make the rotation sweep loop forever.
        periodDays: r.int(rot.periodDays, `${at}.rotation.periodDays`, 90, 2560),
        onDemandCount: r.int(rot.onDemandCount, `${at}.rotation.onDemandCount`),
      },
      materials: [],
    };
    if (rot.nextRotationAt !== undefined) key.rotation.nextRotationAt = r.time(rot.nextRotationAt, `${at}.rotation.nextRotationAt`);
    if (k.deletionAt !== undefined) key.deletionAt = r.time(k.deletionAt, `${at}.deletionAt`);
    if (k.pendingWindowInDays !== undefined) key.pendingWindowInDays = r.int(k.pendingWindowInDays, `${at}.pendingWindowInDays`);
    r.arr(k.materials, `${at}.materials`).forEach((rawM, j) => {
      const mat = r.obj(rawM, `${at}.materials[${j}]`);
      const id = r.str(mat.id, `${at}.materials[${j}].id`);
      if (!/^[0-9a-f]{64}$/.test(id)) throw new InputError(`${file}: ${at}.materials[${j}].id: expected 64 hex characters`);
      const secret = unwrap(master, materialAad(arn, id), r.str(mat.wrapped, `${at}.materials[${j}].wrapped`));
      if (!secret || secret.length !== 32) {
        throw new InputError(`${file}: ${at}.materials[${j}].wrapped: expected key material sealed for ${arn} under the state master key`);
      }
      const m: KmsKey['materials'][number] = { id, createdAt: r.time(mat.createdAt, `${at}.materials[${j}].createdAt`), secret };
      if (mat.rotationType !== undefined) m.rotationType = r.oneOf(mat.rotationType, `${at}.materials[${j}].rotationType`, ['AUTOMATIC', 'ON_DEMAND'] as const);
      key.materials.push(m);
    });
    if (k.privateKey !== undefined) {
      const pk = r.obj(k.privateKey, `${at}.privateKey`);
      const der = unwrap(master, privateKeyAad(arn), r.str(pk.wrapped, `${at}.privateKey.wrapped`));
      if (!der) throw new InputError(`${file}: ${at}.privateKey.wrapped: expected a private key sealed for ${arn} under the state master key`);
      try {
        key.privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      } finally {
        der.fill(0);
      }
      key.publicKeyDer = Buffer.from(r.str(k.publicKey, `${at}.publicKey`), 'base64');
    }
    if (key.keySpec === 'SYMMETRIC_DEFAULT' ? key.materials.length === 0 : !key.privateKey) {
      throw new InputError(`${file}: ${at}: expected key material for a ${key.keySpec} key`);
    }
    store.addKey(key);
  });
  r.arr(root.aliases, 'aliases').forEach((raw, i) => {
    const at = `aliases[${i}]`;
    const a = r.obj(raw, at);
    const alias: KmsAlias = {
      aliasName: r.str(a.aliasName, `${at}.aliasName`),
      accountId: r.str(a.accountId, `${at}.accountId`),
      region: r.str(a.region, `${at}.region`),
      targetKeyId: r.str(a.targetKeyId, `${at}.targetKeyId`),
      createdAt: r.time(a.createdAt, `${at}.createdAt`),
      updatedAt: r.time(a.updatedAt, `${at}.updatedAt`),
    };
    store.putAlias(alias);
  });
  return store;
}

/** Field readers whose errors name the file and the JSON path, as DESIGN.md's exit-2 contract asks. */
class Reader {
  constructor(private readonly file: string) {}
  private fail(path: string, expected: string, found: unknown): never {
    throw new InputError(`${this.file}: ${path || '(root)'}: expected ${expected}, found ${JSON.stringify(found) ?? 'nothing'}`);
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v);
    return v as unknown[];
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v as string;
  }
  int(v: unknown, path: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, min === -Infinity ? 'an integer' : `an integer from ${min} to ${max}`, v);
    }
    return v as number;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, 'true or false', v);
    return v as boolean;
  }
  time(v: unknown, path: string): number {
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) this.fail(path, 'an ISO-8601 time', v);
    return ms;
  }
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.fail(path, `one of ${values.join(', ')}`, v);
    return v as T;
  }
}
