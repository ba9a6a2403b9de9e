// tshark/capinfos as the independent oracle for the wire tests: what Wireshark's
// dissectors make of our bytes is what a reviewer would see in a real capture.
// The temp folder and tshark's field extraction are the capture tests' (test/src/capture/oracle.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { fields, TempDir } from '../../src/capture/oracle.js';

export { fields, TempDir };

/** Checksum-status values of Wireshark's proto_checksum_enum_e. */
export const CHECKSUM_BAD = '0';
export const CHECKSUM_GOOD = '1';

/** Validate every checksum Wireshark knows how to (all are off by default). */
export const CHECKSUM_PREFS = [
  '-o', 'ip.check_checksum:TRUE',
  '-o', 'tcp.check_checksum:TRUE',
  '-o', 'udp.check_checksum:TRUE',
];

function run(cmd: string, args: string[]): string {
  // Silence tshark's "running as root" banner and keep stderr out of the result.
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** The single column of a single-field query, one entry per packet. */
export function column(file: string, name: string, o: { filter?: string; prefs?: string[] } = {}): string[] {
  return fields(file, [name], o).map((r) => r[0] ?? '');
}

/** Expert items at Warning or Error (plus any malformed-packet marks), as "frame: message". */
export function expertProblems(file: string, prefs: string[] = []): string[] {
  const rows = fields(file, ['frame.number', '_ws.expert.severity', '_ws.expert.message', '_ws.malformed'], { prefs });
  const problems: string[] = [];
  for (const [frame, sev = '', msg = '', malformed = ''] of rows) {
    const sevs = sev.split(',');
    const msgs = msg.split(',');
    sevs.forEach((s, i) => {
      if (Number(s) >= 6291456) problems.push(`${frame}: ${msgs[i] ?? msg}`); // PI_WARN = 0x00600000
    });
    if (malformed) problems.push(`${frame}: malformed`);
  }
  return problems;
}

/** The verbose dissection text (tshark -V). */
export function verbose(file: string, prefs: string[] = [], filter?: string): string {
  return run('tshark', ['-r', file, ...prefs, ...(filter ? ['-Y', filter] : []), '-V']);
}

/** capinfos' machine-readable summary: key → value. */
export function capinfos(file: string): Map<string, string> {
  const out = run('capinfos', ['-M', '-T', '-c', '-t', '-E', '-a', '-e', '-l', '-S', file]);
  const [header = '', values = ''] = out.split('\n');
  const keys = header.split('\t');
  const vals = values.split('\t');
  return new Map(keys.map((k, i) => [k.trim(), (vals[i] ?? '').trim()]));
}

/** capinfos' per-interface blocks (pcapng): name, timestamp ticks per second, snaplen, if_tsoffset. */
export function capinfosInterfaces(file: string): { name: string; ticks: string; snaplen: string; offset: string }[] {
  // capinfos prints the file's interface list after "Section 0:"'s header lines (when the
  // SHB has options) and repeats it for later sections; the first list is the file's.
  const all = run('capinfos', [file]);
  const start = all.indexOf('Number of interfaces in file');
  const out = all.slice(start).split(/\nSection \d+:/)[0] ?? '';
  return out.split(/Interface #\d+ info:/).slice(1).map((block) => ({
    name: /Name = (.*)/.exec(block)?.[1]?.trim() ?? '',
    ticks: /Time ticks per second = (\d+)/.exec(block)?.[1] ?? '',
    snaplen: /Capture length = (\d+)/.exec(block)?.[1] ?? '',
    offset: /Timestamp offset = (-?\d+)/.exec(block)?.[1] ?? '0',
  }));
}

/** Every SHB comment capinfos shows, in section order. */
export function capinfosSectionComments(file: string): string[] {
  return [...run('capinfos', [file]).matchAll(/Capture comment:\s+(.*)/g)].map((m) => m[1]!.trim());
}

/** Runs tshark on a file that may be broken: exit status and stderr, without throwing. */
export function tsharkStatus(file: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
