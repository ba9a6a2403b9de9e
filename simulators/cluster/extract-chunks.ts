// The chunk framing of an extract body (README "Extract file"), shared by the writer, the
// reader and the re-encryption worker:
//   chunk := u8 flags (bit 0: final) | u32be plainLength | GCM tag (16) | ciphertext
// nonce = 4 zero bytes | u64be chunk index; AAD = "cryptgate/extract-chunk@1\0extract:<id>\0"
// | u64be chunk index | u8 final flag.

export const CHUNK_HEAD = 1 + 4 + 16;
export const FINAL_FLAG = 1;

const aadHead = (extractId: string): Buffer => Buffer.from(`cryptgate/extract-chunk@1\0extract:${extractId}\0`, 'utf8');

/**
 * One extract's nonce and AAD in two reused buffers, set per chunk by `at` (Node's cipher
 * copies both when they are set), so a hot loop allocates nothing for them.
 */
export function chunkParams(extractId: string): { nonce: Buffer; aad: Buffer; at(index: number, final: boolean): void } {
  const head = aadHead(extractId);
  const aad = Buffer.alloc(head.length + 9);
  head.copy(aad, 0);
  const nonce = Buffer.alloc(12);
  return {
    nonce,
    aad,
    at(index, final) {
      nonce.writeBigUInt64BE(BigInt(index), 4);
      aad.writeBigUInt64BE(BigInt(index), head.length);
      aad[head.length + 8] = final ? 1 : 0;
    },
  };
}
