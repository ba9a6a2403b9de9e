// tshark as the independent oracle for the capture tests: what Wireshark makes of the
// same bytes, written to a temp file. Helpers only (no tests here).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'cg-'));

  /** A path in the directory; writes `bytes` there when given. */
  file(name: string, bytes?: Uint8Array): string {
    const p = join(this.path, name);
    if (bytes) writeFileSync(p, bytes);
    return p;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** No reassembly: every frame is dissected on its own, as cryptgate reads it. */
export const NO_REASSEMBLY = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE'];
export const ESP_NULL_HEURISTIC = ['-o', 'esp.enable_null_encryption_decode_heuristic:TRUE'];

export interface FieldOptions {
  filter?: string;
  prefs?: string[];
  /** 'a' all occurrences comma-joined (default), 'f' first only. */
  occurrence?: 'a' | 'f';
  /** Tolerate a non-zero exit (a file cut short): return what tshark printed. */
  allowFailure?: boolean;
}

function tsharkArgs(file: string, names: string[], o: FieldOptions): string[] {
  const args = ['-r', file, ...(o.prefs ?? []), ...(o.filter ? ['-Y', o.filter] : []), '-T', 'fields', '-E', 'separator=|', '-E', `occurrence=${o.occurrence ?? 'a'}`, '-E', 'aggregator=,'];
  for (const n of names) args.push('-e', n);
  return args;
}

/** One row per displayed frame, one column per field. */
export function fields(file: string, names: string[], o: FieldOptions = {}): string[][] {
  const args = tsharkArgs(file, names, o);
  let out: string;
  if (o.allowFailure) {
    out = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
  } else {
    out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  }
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('|'));
}

/** Named-field records: one object per frame. */
export function records(file: string, names: string[], o: FieldOptions = {}): Record<string, string>[] {
  return fields(file, names, o).map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? ''])));
}

/** Each frame's raw bytes as tshark read them (`-T ek -x`). */
export function rawFrames(file: string, allowFailure = false): Buffer[] {
  const args = ['-r', file, '-T', 'ek', '-x'];
  const out = allowFailure
    ? spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout
    : execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const frames: Buffer[] = [];
  for (const line of out.split('\n')) {
    if (!line.includes('"layers"')) continue;
    const doc = JSON.parse(line) as { layers: { frame_raw?: string | string[] } };
    const raw = doc.layers.frame_raw;
    frames.push(Buffer.from(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''), 'hex'));
  }
  return frames;
}

/**
 * tshark's frame.time_epoch ("1763000000.020000457") minus an integer second, as a
 * double: keeps the nanoseconds exact enough to compare with a reader's timestamp.
 */
export function epochParts(text: string): { sec: number; ns: number } {
  const [s = '0', f = ''] = text.split('.');
  return { sec: Number(s), ns: Number(f.padEnd(9, '0').slice(0, 9)) };
}

/** ISO 8601 UTC with microseconds from tshark's epoch text, rounded as cryptgate rounds. */
export function isoFromEpoch(text: string): string {
  const { sec, ns } = epochParts(text);
  let s = sec;
  let us = Math.round(ns / 1000);
  if (us >= 1e6) { s += 1; us -= 1e6; }
  return `${new Date(s * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`;
}

/** The IP length of a frame's outer header as tshark shows it (IPv4 total length, IPv6 40 + payload length). */
export function outerIpLength(r: Record<string, string>): number {
  if (r['ip.len']) return Number(r['ip.len'].split(',')[0]);
  if (r['ipv6.plen']) return 40 + Number(r['ipv6.plen'].split(',')[0]);
  return 0;
}

/** The outer source and destination of a frame (first occurrence). */
export function outerAddresses(r: Record<string, string>): { src: string; dst: string } | undefined {
  const first = (v: string | undefined): string => (v ?? '').split(',')[0] ?? '';
  if (r['ip.src']) return { src: first(r['ip.src']), dst: first(r['ip.dst']) };
  if (r['ipv6.src']) return { src: first(r['ipv6.src']), dst: first(r['ipv6.dst']) };
  return undefined;
}

export const IP_FIELDS = ['ip.src', 'ip.dst', 'ip.len', 'ipv6.src', 'ipv6.dst', 'ipv6.plen'];
