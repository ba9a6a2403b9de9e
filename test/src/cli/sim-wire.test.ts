// `cryptgate sim <dir> wire capture`: the persistent cluster's traffic on the simulated wire,
// under the editable IPsec policy in <dir>/network; reproducible, and bad policy files are a
// one-line exit 2.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cg-simwire-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('captures the cluster under the seed set-up, then under an edited policy', () => {
  const dir = join(tmp, 'c');
  assert.equal(runCli('sim', dir, 'init', '--nodes', '3').status, 0);
  const first = runCli('sim', dir, 'wire', 'capture', '--out', join(tmp, 'a.pcap'), '--seconds', '3');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Wrote the seed document's IPsec set-up to .*network\/ipsec-policy\.json/);
  assert.match(first.stdout, /Service connections between nodes: \d+ protected, 0 in clear, 0 blocked\./);
  const again = runCli('sim', dir, 'wire', 'capture', '--out', join(tmp, 'b.pcap'), '--seconds', '3');
  assert.equal(again.status, 0);
  assert.ok(readFileSync(join(tmp, 'a.pcap')).equals(readFileSync(join(tmp, 'b.pcap'))), 'same seed, same capture');

  const policyFile = join(dir, 'network/ipsec-policy.json');
  const policy = JSON.parse(readFileSync(policyFile, 'utf8'));
  policy.nodes[2].rules = [];
  writeFileSync(policyFile, JSON.stringify(policy));
  const broken = runCli('sim', dir, 'wire', 'capture', '--out', join(tmp, 'c.pcap'), '--seconds', '3');
  assert.equal(broken.status, 0);
  assert.match(broken.stdout, /node3: 'vizqlserver' is in an error state\. cannot reach Tableau Server Repository on node1/);
  const judged = runCli('check', 'capture', join(tmp, 'c.pcap'), '--policy', join(dir, 'network/cryptgate-policy.json'), '--no-hash');
  assert.equal(judged.status, 1, 'the dropped clear connection attempts are on the wire');

  policy.nodes[0].rules[0].endpoint2 = ['10.0.0.999'];
  writeFileSync(policyFile, JSON.stringify(policy));
  const bad = runCli('sim', dir, 'wire', 'capture', '--out', join(tmp, 'd.pcap'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^cryptgate: .*ipsec-policy\.json: nodes\[0\]\.rules\[0\]\.endpoint2\[0\]: expected "Any", an IP address, a CIDR subnet or an a-b range, found "10\.0\.0\.999"\n$/);
  assert.equal(runCli('sim', dir, 'wire', 'capture', '--out', join(tmp, 'e.pcap'), '--seconds', '0').status, 2);
});
