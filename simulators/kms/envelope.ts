// The ciphertext blob Encrypt and GenerateDataKey return. It is self-describing, so Decrypt
// needs no KeyId (as with real KMS): it names the key and the key-material generation that
// sealed it, so ciphertexts made before a rotation still find their old material.
//
//   0   3  "CG" 0x01          magic + format version
//   3  36  key id             ASCII UUID
//  39  32  key material id    raw bytes (shown as 64 hex characters elsewhere)
//  71  12  IV                 random per blob
//  83  16  GCM tag
//  99   …  ciphertext         AES-256-GCM
//
// The AAD is the 83-byte header followed by the canonical encryption context, so editing
// the header, the ciphertext or the context all fail the tag check: InvalidCiphertextException.
// The format is ours; real AWS blobs cannot be read here, nor ours there (LocalStack and moto
// make the same choice).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { invalidCiphertext } from './errors.js';

const MAGIC = Buffer.from([0x43, 0x47, 0x01]);
const KEY_ID_LEN = 36;
const MATERIAL_ID_LEN = 32;
const IV_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = MAGIC.length + KEY_ID_LEN + MATERIAL_ID_LEN + IV_LEN; // 83
const MIN_LEN = HEADER_LEN + TAG_LEN;

export interface BlobHeader {
  keyId: string;
  /** 64 hex characters. */
  materialId: string;
}

/**
 * The encryption context as bytes: pairs sorted by key (UTF-8 byte order), each key and
 * value length-prefixed so `{"a":"bc"}` and `{"ab":"c"}` differ.
 */
export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  if (!context) return Buffer.alloc(0);
  const pairs = Object.entries(context).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [];
  for (const [k, v] of pairs) {
    const len = Buffer.alloc(8);
    len.writeUInt32BE(k.length, 0);
    len.writeUInt32BE(v.length, 4);
    parts.push(len, k, v);
  }
  return Buffer.concat(parts);
}

export function seal(
  header: BlobHeader,
  secret: Buffer,
  plaintext: Buffer,
  context: Record<string, string> | undefined,
): Buffer {
  const iv = randomBytes(IV_LEN);
  const head = Buffer.concat([MAGIC, Buffer.from(header.keyId, 'ascii'), Buffer.from(header.materialId, 'hex'), iv]);
  if (head.length !== HEADER_LEN) throw new Error(`envelope header of ${head.length} bytes: key id or material id malformed`);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(Buffer.concat([head, canonicalContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([head, cipher.getAuthTag(), body]);
}

/** Reads the header without decrypting; anything that is not our blob is InvalidCiphertextException. */
export function readHeader(blob: Buffer): BlobHeader {
  if (blob.length < MIN_LEN || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalidCiphertext('The ciphertext blob was not made by this KMS (or is truncated).');
  }
  const keyId = blob.toString('ascii', MAGIC.length, MAGIC.length + KEY_ID_LEN);
  const materialId = blob.toString('hex', MAGIC.length + KEY_ID_LEN, MAGIC.length + KEY_ID_LEN + MATERIAL_ID_LEN);
  return { keyId, materialId };
}

export function open(blob: Buffer, secret: Buffer, context: Record<string, string> | undefined): Buffer {
  if (blob.length < MIN_LEN) throw invalidCiphertext();
  const head = blob.subarray(0, HEADER_LEN);
  const iv = head.subarray(HEADER_LEN - IV_LEN);
  const tag = blob.subarray(HEADER_LEN, HEADER_LEN + TAG_LEN);
  const decipher = createDecipheriv('aes-256-gcm', secret, iv);
  decipher.setAAD(Buffer.concat([head, canonicalContext(context)]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(HEADER_LEN + TAG_LEN)), decipher.final()]);
  } catch {
    throw invalidCiphertext();
  }
}
