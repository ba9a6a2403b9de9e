// The keys and aliases the server holds, per account and region, and the lookups every
// operation starts with: a KeyId (id, key ARN, alias name, alias ARN) → the key, refused
// with AWS's NotFoundException wording. Also the time-driven changes AWS makes on its own:
// automatic rotation when due, and deletion when a key's waiting period ends.
import { randomBytes } from 'node:crypto';
import { aliasArn, keyArn, parseKeyRef, UUID } from './arn.js';
import { KmsError, disabled, notFound, pendingDeletion } from './errors.js';
import type { KeyMaterial, KeyState, KmsAlias, KmsKey, RotationType } from './model.js';

const DAY_MS = 86_400_000;

export interface Scope {
  accountId: string;
  region: string;
}

const slot = (accountId: string, region: string, name: string): string => `${accountId}\u0000${region}\u0000${name}`;

export function newMaterial(now: number, rotationType?: RotationType): KeyMaterial {
  const m: KeyMaterial = { id: randomBytes(32).toString('hex'), createdAt: now, secret: randomBytes(32) };
  if (rotationType) m.rotationType = rotationType;
  return m;
}

/**
 * Throws the error AWS gives when an operation meets a key in a state it does not accept:
 * DisabledException "<arn> is disabled.", KMSInvalidStateException "<arn> is pending deletion.".
 */
export function requireState(key: KmsKey, allowed: readonly KeyState[]): void {
  if (allowed.includes(key.state)) return;
  if (key.state === 'Disabled') throw disabled(key.arn);
  if (key.state === 'PendingDeletion') throw pendingDeletion(key.arn);
  throw new KmsError('KMSInvalidStateException', `${key.arn} is ${key.state.toLowerCase()}, but the operation doesn't support such a state`);
}

export class KeyStore {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, KmsAlias>();

  /** Every key, in creation order (ListKeys pages through this order). */
  allKeys(): KmsKey[] {
    return [...this.keys.values()];
  }

  allAliases(): KmsAlias[] {
    return [...this.aliases.values()];
  }

  keysIn(scope: Scope): KmsKey[] {
    return this.allKeys().filter((k) => k.accountId === scope.accountId && k.region === scope.region);
  }

  aliasesIn(scope: Scope): KmsAlias[] {
    return this.allAliases()
      .filter((a) => a.accountId === scope.accountId && a.region === scope.region)
      .sort((a, b) => (a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0));
  }

  addKey(key: KmsKey): void {
    this.keys.set(slot(key.accountId, key.region, key.keyId), key);
  }

  /** Removes a key, the aliases that point at it, and scrubs its material from memory. */
  deleteKey(key: KmsKey): void {
    this.keys.delete(slot(key.accountId, key.region, key.keyId));
    for (const [k, a] of this.aliases) {
      if (a.accountId === key.accountId && a.region === key.region && a.targetKeyId === key.keyId) this.aliases.delete(k);
    }
    for (const m of key.materials) m.secret.fill(0);
  }

  getAlias(scope: Scope, aliasName: string): KmsAlias | undefined {
    return this.aliases.get(slot(scope.accountId, scope.region, aliasName));
  }

  putAlias(alias: KmsAlias): void {
    this.aliases.set(slot(alias.accountId, alias.region, alias.aliasName), alias);
  }

  deleteAlias(alias: KmsAlias): void {
    this.aliases.delete(slot(alias.accountId, alias.region, alias.aliasName));
  }

  /** Alias lookup that fails as AWS does: NotFoundException "Alias <alias arn> is not found.". */
  requireAlias(scope: Scope, aliasName: string): KmsAlias {
    const alias = this.getAlias(scope, aliasName);
    if (!alias) throw notFound(`Alias ${aliasArn(scope.region, scope.accountId, aliasName)} is not found.`);
    return alias;
  }

  /**
   * Resolves a KeyId parameter for a caller in `scope` (the caller's account and the
   * request's region). A key ARN may name another account's key (cross-account use; the key
   * policy then decides); a key ARN in another region is NotFoundException("Invalid arn …").
   */
  resolve(text: string, scope: Scope): KmsKey {
    const ref = parseKeyRef(text, scope.region);
    const where: Scope = { accountId: ref.accountId ?? scope.accountId, region: scope.region };
    let keyId: string;
    if (ref.kind === 'alias') keyId = this.requireAlias(where, ref.aliasName).targetKeyId;
    else keyId = ref.keyId;
    if (!UUID.test(keyId)) throw notFound(`Invalid keyId '${text}'`);
    const key = this.keys.get(slot(where.accountId, where.region, keyId));
    if (!key) throw notFound(`Key '${keyArn(where.region, where.accountId, keyId)}' does not exist`);
    return key;
  }

  /** Finds a key by bare id in a scope (Decrypt without KeyId reads the id from the blob). */
  byId(scope: Scope, keyId: string): KmsKey | undefined {
    return this.keys.get(slot(scope.accountId, scope.region, keyId));
  }

  /**
   * Applies what AWS does on its own as time passes: deletes keys whose waiting period has
   * ended and rotates Enabled keys whose automatic rotation is due. Returns whether anything
   * changed (so the caller persists).
   */
  sweep(now: number): boolean {
    let changed = false;
    for (const key of this.allKeys()) {
      if (key.state === 'PendingDeletion' && key.deletionAt !== undefined && key.deletionAt <= now) {
        this.deleteKey(key);
        changed = true;
        continue;
      }
      const r = key.rotation;
      // Rotations are applied lazily but dated when they were due, one per elapsed period,
      // so a clock moved far ahead sees the history AWS would have made.
      while (key.state === 'Enabled' && r.enabled && r.nextRotationAt !== undefined && r.nextRotationAt <= now) {
        key.materials.push(newMaterial(r.nextRotationAt, 'AUTOMATIC'));
        r.nextRotationAt += r.periodDays * DAY_MS;
        changed = true;
      }
    }
    return changed;
  }

  /** Zeroes every secret held in memory (on shutdown). */
  scrub(): void {
    for (const key of this.keys.values()) for (const m of key.materials) m.secret.fill(0);
    this.keys.clear();
    this.aliases.clear();
  }
}

export { DAY_MS };
