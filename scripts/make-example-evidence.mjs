#!/usr/bin/env node
// Makes examples/evidence: what an auditor would collect from a 3-node cluster, produced by
// the simulator through its command line (`cryptgate sim …`), the way a person would drive it.
//
// The scenario (KMS-8, the multi-node pitfall): the cluster runs in AWS KMS mode with a
// least-privilege key policy naming the roles of node1 and node2; node3 was added later, its
// role was never added to the key policy and its IAM policy lacks kms:Decrypt. `tsm security
// kms status` on the initial node says OK; node3's services are in Error. IPsec is the seed's
// set-up on every node and the wire shows only ESP between nodes.
// Expected audit verdicts (examples/expected-verdicts.json): kms.node-reach and
// kms.least-privilege fail (naming node3 and its role), everything else that has evidence passes.
//
// Usage: npm run build && node scripts/make-example-evidence.mjs [out-dir (default examples/evidence)]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'examples', 'evidence'));
const { validateClusterPolicy } = await import(join(root, 'dist/src/ipsec/policy-model.js'));
const { ruleExport, mainModeExport, quickModeExport, authSetExport, netshConsecText } = await import(join(root, 'dist/src/evidence/windows-ipsec-export.js'));

const cluster = mkdtempSync(join(tmpdir(), 'cryptgate-example-'));
const sim = (...args) => execFileSync(process.execPath, [join(root, 'bin/cryptgate.js'), 'sim', cluster, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const step = (what) => process.stderr.write(`• ${what}\n`);

try {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  step('a 3-node cluster on EC2 with the Advanced Management licence');
  sim('init', '--nodes', '3', '--licence', 'advanced-management', '--platform', 'ec2', '--region', 'us-east-1');
  const config = JSON.parse(readFileSync(join(cluster, 'cluster.json'), 'utf8'));
  const roles = config.nodes.map((n) => n.role.name);

  step('a CMK, with a key policy that allows the roles of node1 and node2 exactly GenerateDataKey and Decrypt (KMS-3)');
  const arn = JSON.parse(sim('aws', 'kms', 'create-key', '--description', 'Tableau Server extracts')).KeyMetadata.Arn;
  const account = arn.split(':')[4];
  const keyPolicy = {
    Version: '2012-10-17',
    Id: 'tableau-server-extracts',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
      // node3's role is missing here: it joined the cluster after the key policy was written.
      { Sid: 'Tableau Server nodes', Effect: 'Allow', Principal: { AWS: roles.slice(0, 2).map((r) => `arn:aws:iam::${account}:role/${r}`) }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' },
    ],
  };
  sim('aws', 'kms', 'put-key-policy', '--key-id', arn, '--policy', JSON.stringify(keyPolicy));

  step("node3's instance role lacks kms:Decrypt (the KMS-8 pitfall)");
  sim('node', 'set-role', 'node3', '--decrypt', 'deny');

  step('AWS mode, an extract, a token regeneration and a re-encryption (two MEKs on the timeline)');
  sim('tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn);
  sim('tabcmd', 'publish', 'Default', 'sales', '--size', '200000');
  sim('tsm', 'security', 'regenerate-internal-tokens');
  sim('tabcmd', 'reencryptextracts', 'Default');

  step('evidence: `tsm security kms status` on the initial node (says OK)');
  writeFileSync(join(out, 'tsm-security-kms-status.txt'), sim('tsm', 'security', 'kms', 'status'));

  step('evidence: AWS CLI exports (get-key-policy, describe-key, get-role-policy per node)');
  mkdirSync(join(out, 'aws'), { recursive: true });
  writeFileSync(join(out, 'aws', 'get-key-policy.json'), sim('aws', 'kms', 'get-key-policy', '--key-id', arn));
  writeFileSync(join(out, 'aws', 'describe-key.json'), sim('aws', 'kms', 'describe-key', '--key-id', arn));
  const after = JSON.parse(readFileSync(join(cluster, 'cluster.json'), 'utf8'));
  for (const n of after.nodes) {
    // What `aws iam get-role-policy` prints for the role the simulated node runs as: the
    // actions its cluster.json flags allow, scoped to the CMK.
    const actions = [...(n.role.allowsGenerateDataKey ? ['kms:GenerateDataKey'] : []), ...(n.role.allowsDecrypt ? ['kms:Decrypt'] : [])];
    const doc = { RoleName: n.role.name, PolicyName: 'tableau-server-kms', PolicyDocument: { Version: '2012-10-17', Statement: actions.length ? [{ Sid: 'TableauExtractKeys', Effect: 'Allow', Action: actions, Resource: arn }] : [] } };
    writeFileSync(join(out, 'aws', `get-role-policy-${n.name}.json`), `${JSON.stringify(doc, null, 4)}\n`);
  }

  step('evidence: the nodes\' logs (one rotated and gzip-compressed, as ziplogs collects them)');
  const logs = join(cluster, 'logs');
  for (const node of readdirSync(logs)) {
    mkdirSync(join(out, 'logs', node), { recursive: true });
    for (const f of readdirSync(join(logs, node))) {
      const src = join(logs, node, f);
      if (!statSync(src).isFile()) continue;
      if (node === 'node1' && f.startsWith('backgrounder')) writeFileSync(join(out, 'logs', node, `${f}.1.gz`), gzipSync(readFileSync(src)));
      else copyFileSync(src, join(out, 'logs', node, f));
    }
  }

  step('evidence: a capture at the switch port (the simulated wire under the seed\'s IPsec set-up)');
  mkdirSync(join(out, 'capture'), { recursive: true });
  sim('wire', 'capture', '--out', join(out, 'capture', 'switch-port.pcap'), '--seconds', '1', '--seed', 'example');

  step('evidence: each node\'s Windows IPsec exports (PowerShell 7 JSON, netsh text, PowerShell 5 UTF-16)');
  const policy = validateClusterPolicy(JSON.parse(readFileSync(join(cluster, 'network', 'ipsec-policy.json'), 'utf8')), 'ipsec-policy.json');
  const [n1, n2, n3] = policy.nodes;
  const json = (v) => `${JSON.stringify(v, null, 4)}\n`;
  const utf16 = (s) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s.replace(/\n/g, '\r\n'), 'utf16le')]);
  mkdirSync(join(out, 'ipsec', 'node1'), { recursive: true });
  writeFileSync(join(out, 'ipsec', 'node1', 'Get-NetIPsecRule.json'), json(ruleExport(n1)));
  writeFileSync(join(out, 'ipsec', 'node1', 'Get-NetIPsecMainModeCryptoSet.json'), json(mainModeExport(n1)));
  writeFileSync(join(out, 'ipsec', 'node1', 'Get-NetIPsecQuickModeCryptoSet.json'), json(quickModeExport(n1)));
  writeFileSync(join(out, 'ipsec', 'node1', 'Get-NetIPsecPhase1AuthSet.json'), json(authSetExport(n1)));
  mkdirSync(join(out, 'ipsec', 'node2'), { recursive: true });
  writeFileSync(join(out, 'ipsec', 'node2', 'netsh-consec-show-rule.txt'), netshConsecText(n2));
  writeFileSync(join(out, 'ipsec', 'node2', 'Get-NetIPsecMainModeCryptoSet.json'), json(mainModeExport(n2)));
  mkdirSync(join(out, 'ipsec', 'node3'), { recursive: true });
  writeFileSync(join(out, 'ipsec', 'node3', 'ipsec-export.txt'), utf16(json([...ruleExport(n3, { enums: 'numbers' }), mainModeExport(n3, { enums: 'numbers' }), ...quickModeExport(n3, { enums: 'numbers' }), ...authSetExport(n3, { enums: 'numbers' })])));

  step('the policy file for this cluster');
  const services = JSON.parse(readFileSync(join(cluster, 'network', 'cryptgate-policy.json'), 'utf8')).services;
  const yaml = [
    '# Policy for the example cluster (made by scripts/make-example-evidence.mjs).',
    `nodes: [${policy.nodes.map((n) => n.addresses[0]).join(', ')}]`,
    'services:',
    ...Object.entries(services).map(([port, name]) => `  "${port}": ${name}`),
    'kms:',
    `  cmkArn: ${arn}`,
    '  region: us-east-1',
    `  roles: [${roles.join(', ')}]`,
    `  nodes: [${after.nodes.map((n) => n.name).join(', ')}]`,
    '# Findings at or above this severity fail the gate (exit 1); lower ones are reported only.',
    'failOn: medium',
    'waivers: []',
    '# e.g. (an expired waiver fails the gate again):',
    '#  - check: kms.node-reach',
    '#    scope: { node: node3 }',
    '#    reason: node3 is being rebuilt, CHG-4711',
    '#    approver: security-team',
    '#    expires: 2026-12-31',
    '',
  ].join('\n');
  writeFileSync(join(dirname(out), 'cluster-policy.yaml'), yaml);

  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : files.push(relative(out, join(d, e.name)));
  };
  walk(out);
  process.stderr.write(`Wrote ${files.length} evidence files to ${out}:\n${files.sort().map((f) => `  ${f}`).join('\n')}\n`);
  process.stderr.write(`Audit it: node bin/cryptgate.js audit ${relative(process.cwd(), out) || '.'} --policy ${relative(process.cwd(), join(dirname(out), 'cluster-policy.yaml'))}\n`);
} finally {
  rmSync(cluster, { recursive: true, force: true });
}
