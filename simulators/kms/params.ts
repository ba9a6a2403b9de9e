// Reads one operation's JSON request body the way AWS's model validation does: member
// names as the wire spells them (`KeyId`), constraint messages naming the lower-camel
// field (`keyId`), blobs as base64 strings, timestamps out as epoch seconds.
import { KmsError, validationError } from './errors.js';

const lowerCamel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class Params {
  constructor(private readonly body: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  /** A string member; `required` makes an absent one a "must not be null" ValidationException. */
  str(name: string, opts: { required: true; min?: number; max?: number }): string;
  str(name: string, opts?: { required?: false; min?: number; max?: number }): string | undefined;
  str(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw validationError(lowerCamel(name), null, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'string') throw serialization(name, 'a string');
    if (opts.min !== undefined && v.length < opts.min) {
      throw validationError(lowerCamel(name), v, `Member must have length greater than or equal to ${opts.min}`);
    }
    if (opts.max !== undefined && v.length > opts.max) {
      throw validationError(lowerCamel(name), v, `Member must have length less than or equal to ${opts.max}`);
    }
    return v;
  }

  /** One of a fixed set of strings. */
  enumOf<T extends string>(name: string, values: readonly T[], required = false): T | undefined {
    const v = required ? this.str(name, { required: true }) : this.str(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      throw validationError(lowerCamel(name), v, `Member must satisfy enum value set: [${values.join(', ')}]`);
    }
    return v as T;
  }

  int(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization(name, 'an integer');
    if (opts.min !== undefined && v < opts.min) {
      throw validationError(lowerCamel(name), v, `Member must have value greater than or equal to ${opts.min}`);
    }
    if (opts.max !== undefined && v > opts.max) {
      throw validationError(lowerCamel(name), v, `Member must have value less than or equal to ${opts.max}`);
    }
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw serialization(name, 'a boolean');
    return v;
  }

  /** A blob member (base64 on the wire) with AWS's length limits in bytes. */
  blob(name: string, opts: { required: true; min?: number; max?: number }): Buffer;
  blob(name: string, opts?: { required?: false; min?: number; max?: number }): Buffer | undefined;
  blob(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): Buffer | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (opts.required) throw validationError(lowerCamel(name), null, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) throw serialization(name, 'base64 data');
    const bytes = Buffer.from(v, 'base64');
    // AWS leaves the value out of blob messages: it may be secret.
    if (opts.min !== undefined && bytes.length < opts.min) {
      throw new KmsError(
        'ValidationException',
        `1 validation error detected: Value at '${lowerCamel(name)}' failed to satisfy constraint: Member must have length greater than or equal to ${opts.min}`,
      );
    }
    if (opts.max !== undefined && bytes.length > opts.max) {
      throw new KmsError(
        'ValidationException',
        `1 validation error detected: Value at '${lowerCamel(name)}' failed to satisfy constraint: Member must have length less than or equal to ${opts.max}`,
      );
    }
    return bytes;
  }

  /** A string→string map such as EncryptionContext. */
  stringMap(name: string): Record<string, string> | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw serialization(name, 'a map of strings');
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') throw serialization(`${name}.${k}`, 'a string');
      out[k] = val;
    }
    return out;
  }

  /** A list of strings (GrantTokens, TagKeys). */
  strList(name: string): string[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw serialization(name, 'a list of strings');
    return v as string[];
  }

  /** The Tags member: [{TagKey, TagValue}]. */
  tags(name = 'Tags'): { TagKey: string; TagValue: string }[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw serialization(name, 'a list of tags');
    return v.map((t, i) => {
      const tag = t as { TagKey?: unknown; TagValue?: unknown };
      if (typeof tag?.TagKey !== 'string' || typeof tag.TagValue !== 'string') {
        throw serialization(`${name}[${i}]`, 'a {TagKey, TagValue} pair of strings');
      }
      return { TagKey: tag.TagKey, TagValue: tag.TagValue };
    });
  }
}

/** A member of the wrong JSON type: AWS's deserializer answers SerializationException. */
function serialization(name: string, expected: string): KmsError {
  return new KmsError('SerializationException', `${name}: expected ${expected}`);
}

/** JSON 1.1 timestamps are epoch seconds (fractions allowed). */
export const epochSeconds = (ms: number): number => ms / 1000;
