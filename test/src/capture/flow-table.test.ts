import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../../src/capture/flow-table.js';

test('FlowTable gives dense indexes, finds them again and survives growth', () => {
  const t = new FlowTable(3, 4);
  const ids: number[] = [];
  for (let i = 0; i < 5000; i++) {
    t.probe[0] = i;
    t.probe[1] = i * 7919;
    t.probe[2] = 0xffffffff - i;
    ids.push(t.findOrAdd());
    assert.equal(t.added, true);
  }
  assert.deepEqual(ids.slice(0, 3), [0, 1, 2]);
  assert.equal(t.size, 5000);
  for (let i = 0; i < 5000; i += 37) {
    t.probe[0] = i;
    t.probe[1] = i * 7919;
    t.probe[2] = 0xffffffff - i;
    assert.equal(t.find(), i);
    assert.equal(t.findOrAdd(), i);
    assert.equal(t.added, false);
    assert.deepEqual(t.keyOf(i), [i, (i * 7919) >>> 0, (0xffffffff - i) >>> 0]);
  }
  t.probe[0] = 999999;
  assert.equal(t.find(), -1);
});
