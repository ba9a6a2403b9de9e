// Endpoint address lists as Windows Firewall with Advanced Security writes them in a
// connection security rule: "Any", single addresses, CIDR subnets and "a-b" ranges, IPv4 or
// IPv6. Pure: parsing and membership only, so an exported configuration and the simulator
// judge "does this rule cover that address" the same way.
import { parseAddress, parseCidr } from '../capture/ip.js';

/** One parsed entry; addresses are compared as 128-bit big-endian word tuples. */
export type AddressEntry =
  | { kind: 'any'; text: string }
  | { kind: 'range'; af: 4 | 6; from: Words; to: Words; text: string };

type Words = readonly [number, number, number, number];

/** Parses one entry, or returns a reason it is not one (for the validator's message). */
export function parseAddressEntry(raw: string): AddressEntry | string {
  const text = raw.trim();
  if (/^any$/i.test(text)) return { kind: 'any', text: 'Any' };
  if (text.includes('/')) {
    const c = parseCidr(text);
    if ('bad' in c) return c.bad === 'prefix' ? `prefix length must be 0..${c.max}` : 'expected a CIDR subnet such as 10.0.0.0/24';
    return { kind: 'range', af: c.af, from: maskWords(c.words, c.af, c.bits, false), to: maskWords(c.words, c.af, c.bits, true), text };
  }
  if (text.includes('-')) {
    const [a, b, extra] = text.split('-');
    const from = parseAddress((a ?? '').trim());
    const to = parseAddress((b ?? '').trim());
    if (!from || !to || extra !== undefined || from.af !== to.af) return 'expected a range such as 10.0.0.11-10.0.0.19';
    if (compareWords(from.words, to.words) > 0) return 'range start is above its end';
    return { kind: 'range', af: from.af, from: from.words, to: to.words, text };
  }
  const single = parseAddress(text);
  if (!single) return 'expected "Any", an IP address, a CIDR subnet or an a-b range';
  return { kind: 'range', af: single.af, from: single.words, to: single.words, text };
}

/** Does the list cover this address? (An empty list covers nothing.) */
export function addressListCovers(entries: readonly AddressEntry[], address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  for (const e of entries) {
    if (e.kind === 'any') return true;
    if (e.af === parsed.af && compareWords(e.from, parsed.words) <= 0 && compareWords(parsed.words, e.to) <= 0) return true;
  }
  return false;
}

/** Parses a whole list, throwing away nothing: callers validate first. */
export function parseAddressList(list: readonly string[]): AddressEntry[] {
  const out: AddressEntry[] = [];
  for (const raw of list) {
    const e = parseAddressEntry(raw);
    if (typeof e !== 'string') out.push(e);
  }
  return out;
}

/** Is the address a single valid IPv4/IPv6 address (a node's own address)? */
export function isSingleAddress(text: string): boolean {
  return parseAddress(text.trim()) !== undefined;
}

function compareWords(a: Words, b: Words): number {
  for (let i = 0; i < 4; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

function maskWords(words: Words, af: 4 | 6, bits: number, ones: boolean): Words {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  let left = bits;
  for (let i = 0; i < (af === 4 ? 1 : 4); i++) {
    const take = Math.max(0, Math.min(32, left));
    const keep = take === 32 ? 0xffffffff : take === 0 ? 0 : ~(0xffffffff >>> take) >>> 0;
    out[i] = ones ? ((words[i]! & keep) | (~keep >>> 0)) >>> 0 : (words[i]! & keep) >>> 0;
    left -= 32;
  }
  return out;
}
