// The cluster's node addresses (single IPs or CIDR blocks, IPv4 or IPv6), matched
// against address words as the capture decoder holds them.
import { InputError } from '../util/errors.js';
import { parseAddress, parseCidr } from '../capture/ip.js';

interface Prefix {
  af: 4 | 6;
  words: [number, number, number, number];
  bits: number;
  text: string;
}

export class NodeSet {
  private readonly prefixes: Prefix[] = [];

  /** @param entries IPs or CIDRs; `source` names where they came from for error messages. */
  constructor(entries: readonly string[], source = '--nodes') {
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry === '') continue;
      const c = parseCidr(entry);
      if ('bad' in c) {
        throw new InputError(`${source}: "${entry}": ${c.bad === 'prefix' ? `prefix length must be 0..${c.max}` : 'expected an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.11 or 10.0.0.0/24)'}`);
      }
      this.prefixes.push({ af: c.af, words: c.words, bits: c.bits, text: entry });
    }
    if (this.prefixes.length === 0) throw new InputError(`${source}: expected at least one node address or CIDR`);
  }

  get entries(): string[] {
    return this.prefixes.map((p) => p.text);
  }

  /** Single addresses listed (not CIDRs): the pairs every capture should show. */
  get singleAddresses(): string[] {
    return this.prefixes.filter((p) => p.bits === (p.af === 4 ? 32 : 128)).map((p) => p.text);
  }

  has(af: number, w0: number, w1: number, w2: number, w3: number): boolean {
    for (const p of this.prefixes) {
      if (p.af !== af) continue;
      if (matches(p, af === 4 ? [w0, 0, 0, 0] : [w0, w1, w2, w3])) return true;
    }
    return false;
  }

  /** Is this textual address a node? (For facts, which carry addresses as text.) */
  contains(address: string): boolean {
    const parsed = parseAddress(address);
    if (!parsed) return false;
    const [w0, w1, w2, w3] = parsed.words;
    return this.has(parsed.af, w0, w1, w2, w3);
  }

  /** For CIDR entries: is this the block's all-ones (directed broadcast) address? */
  isDirectedBroadcast(af: number, w0: number): boolean {
    if (af !== 4) return false;
    for (const p of this.prefixes) {
      if (p.af !== 4 || p.bits >= 31) continue;
      const hostMask = p.bits === 0 ? 0xffffffff : (0xffffffff >>> p.bits) >>> 0;
      if (matches(p, [w0, 0, 0, 0]) && (w0 & hostMask) >>> 0 === hostMask) return true;
    }
    return false;
  }
}

function matches(p: Prefix, words: number[]): boolean {
  let left = p.bits;
  for (let i = 0; i < 4 && left > 0; i++) {
    const take = Math.min(32, left);
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if (((words[i]! ^ p.words[i]!) & mask) >>> 0 !== 0) return false;
    left -= take;
  }
  return true;
}
