// IKE SA assembly from decoded messages: real IKE bytes from the wire builders, decoded by
// the capture engine's own decoder, so the test follows the bytes a capture would hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIke } from '../../../src/capture/ike.js';
import type { IkeObservation } from '../../../src/capture/facts.js';
import { assembleIkeSas } from '../../../src/compliance/ike-sas.js';
import { ikeMessage, ikev1MainMode1, ikev1MainMode2, newSpi } from '../../../simulators/wire/ike.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const SUITE = { encryption: 7, keyLength: 256, hash: 4, authMethod: 3, group: 14 };

function obs(src: string, dst: string, bytes: Buffer, ts: number): IkeObservation {
  const message = decodeIke(bytes, 0, bytes.length);
  assert.ok(message, 'the builder made a decodable IKE message');
  return { file: 'test.pcap', ts, src, dst, srcPort: 500, dstPort: 500, message };
}

/** IKEv1 Informational (exchange 5) carrying one Notify (payload 11) of `type`, in clear. */
function v1Informational(spiI: Buffer, spiR: Buffer, type: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(1, 0); // DOI: IPsec
  body[4] = 1; // protocol: ISAKMP
  body[5] = 0; // SPI size
  body.writeUInt16BE(type, 6);
  return ikeMessage({ spiI, spiR, version: 0x10, exchange: 5, flags: 0, messageId: 7 }, [{ type: 11, body }]);
}

test('IKEv1: a clear Informational NO_PROPOSAL_CHOSEN from the responder refuses the offer', () => {
  const spiI = newSpi();
  const sas = assembleIkeSas([
    obs(A, B, ikev1MainMode1({ spiI, suites: [SUITE] }), 1),
    obs(B, A, v1Informational(spiI, Buffer.alloc(8), 14), 2),
  ]);
  assert.equal(sas.length, 1);
  assert.equal(sas[0]!.status, 'no-proposal-chosen');
  assert.equal(sas[0]!.initiator, A);
  assert.equal(sas[0]!.responder, B);
  assert.equal(sas[0]!.offered.length, 1);
});

test('IKEv1: without the refusal the same offer stays unanswered, and an answered one stays negotiated', () => {
  const spiI = newSpi();
  const unanswered = assembleIkeSas([obs(A, B, ikev1MainMode1({ spiI, suites: [SUITE] }), 1)]);
  assert.equal(unanswered[0]!.status, 'no-response');

  const spiR = newSpi();
  const answered = assembleIkeSas([
    obs(A, B, ikev1MainMode1({ spiI, suites: [SUITE] }), 1),
    obs(B, A, ikev1MainMode2({ spiI, spiR, suite: SUITE }), 2),
    // a refusal from a third party, or a late one, does not undo a negotiated SA
    obs(B, A, v1Informational(spiI, spiR, 14), 3),
  ]);
  assert.equal(answered[0]!.status, 'negotiated');
});

test('IKEv1: an Informational with another notify (or from the initiator) changes nothing', () => {
  const spiI = newSpi();
  const sas = assembleIkeSas([
    obs(A, B, ikev1MainMode1({ spiI, suites: [SUITE] }), 1),
    obs(B, A, v1Informational(spiI, Buffer.alloc(8), 24), 2), // INVALID_HASH_INFORMATION
    obs(A, B, v1Informational(spiI, Buffer.alloc(8), 14), 3), // sent by the initiator
  ]);
  assert.equal(sas[0]!.status, 'no-response');
});
