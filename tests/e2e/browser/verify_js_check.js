// Checks client/console/static/js/verify.js against what Haven's C++ audit
// log produces (tests/e2e/audit_fixture.cc writes the vectors): every
// checkpoint, inclusion and consistency proof must verify, and each kind of
// tampering must be refused. Loaded by verify_js_test.py in headless
// Chromium; sets the title to PASS or FAIL and lists every check.
import * as v from './verify.js';

const lines = [];
let failed = 0;

function record(ok, what) {
  if (!ok) failed++;
  lines.push((ok ? 'ok   ' : 'FAIL ') + what);
}

async function accepts(what, fn) {
  try {
    await fn();
    record(true, what);
  } catch (e) {
    record(false, what + ': ' + e.message);
  }
}

async function refuses(what, fn) {
  try {
    await fn();
    record(false, what + ': accepted');
  } catch (e) {
    record(e instanceof v.VerifyError, what + ': refused (' + e.message + ')');
  }
}

function flipBit(bytes, index, bit) {
  const out = bytes.slice();
  out[index] ^= 1 << bit;
  return out;
}

async function anotherKeysNote(note, name) {
  // The same checkpoint text, signed by a key the page never pinned, under
  // the same name.
  const enc = new TextEncoder();
  const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
  const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, true,
                                               ['sign', 'verify']);
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const idInput = new Uint8Array([...enc.encode(name + '\n'), 1, ...pub]);
  const keyId = (await v.sha256(idInput)).slice(0, 4);
  const sig = new Uint8Array(await crypto.subtle.sign(
      {name: 'Ed25519'}, pair.privateKey, enc.encode(text)));
  return {
    note: text + '\n\u2014 ' + name + ' ' +
          v.b64encode(new Uint8Array([...keyId, ...sig])) + '\n',
    vkey: name + '+' + v.toHex(keyId) + '+' +
          v.b64encode(new Uint8Array([1, ...pub])),
  };
}

async function run() {
  const good = await (await fetch('vectors.json')).json();
  const tampered = await (await fetch('tampered.json')).json();
  const keys = [good.verifier_key];

  let cp = null;
  await accepts('checkpoint verifies under the pinned key', async () => {
    cp = await v.verifyCheckpoint(good.checkpoint, keys);
  });
  if (!cp) throw new Error('no checkpoint');
  record(cp.origin === good.origin, 'checkpoint origin is ' + cp.origin);
  record(cp.treeSize === BigInt(good.leaves.length),
         'checkpoint tree size ' + cp.treeSize + ' = ' + good.leaves.length +
         ' leaves');
  let old = null;
  await accepts('older checkpoint verifies', async () => {
    old = await v.verifyCheckpoint(good.old_checkpoint, keys);
  });

  const other = await anotherKeysNote(good.checkpoint, good.origin);
  await accepts('the other key verifies its own note (sanity)',
                () => v.verifyCheckpoint(other.note, [other.vkey]));
  await refuses('checkpoint signed by another key',
                () => v.verifyCheckpoint(other.note, keys));
  await refuses('checkpoint with its tree size altered', () =>
      v.verifyCheckpoint(good.checkpoint.replace(
          '\n' + good.leaves.length + '\n', '\n' + (good.leaves.length + 1) + '\n'),
          keys));
  const sigAt = good.checkpoint.lastIndexOf(' ') + 10;
  const c = good.checkpoint[sigAt];
  await refuses('checkpoint with its signature altered', () =>
      v.verifyCheckpoint(good.checkpoint.slice(0, sigAt) + (c === 'A' ? 'B' : 'A') +
                         good.checkpoint.slice(sigAt + 1), keys));
  const [vName, vId, ...vRest] = good.verifier_key.split('+');
  const otherId = vId.slice(0, 7) + (vId[7] === '0' ? '1' : '0');
  await refuses('verifier key whose id does not match its key', () =>
      v.parseVerifierKey([vName, otherId, ...vRest].join('+')));
  await refuses('no pinned key', () => v.verifyCheckpoint(good.checkpoint, []));

  let inclusionOk = 0;
  for (const p of good.inclusion_proofs) {
    const leaf = v.b64decode(good.leaves[p.leaf_index]);
    const h = await v.leafHash(leaf);
    if (!v.bytesEqual(h, v.b64decode(p.leaf_hash))) {
      record(false, 'leaf hash of ' + p.leaf_index + ' differs from the C++ one');
      continue;
    }
    try {
      await v.verifyInclusion(BigInt(p.leaf_index), BigInt(p.tree_size), h,
                              p.hashes.map(v.b64decode), cp.rootHash);
      inclusionOk++;
    } catch (e) {
      record(false, 'inclusion of ' + p.leaf_index + ': ' + e.message);
    }
  }
  record(inclusionOk === good.leaves.length,
         inclusionOk + ' of ' + good.leaves.length + ' inclusion proofs verify');

  const p17 = good.inclusion_proofs[17];
  const h17 = v.b64decode(p17.leaf_hash);
  const path17 = p17.hashes.map(v.b64decode);
  for (let i = 0; i < path17.length; i++) {
    const bent = path17.slice();
    bent[i] = flipBit(bent[i], i % 32, i % 8);
    await refuses('inclusion proof of 17 with one bit of hash ' + i + ' flipped',
                  () => v.verifyInclusion(17n, BigInt(p17.tree_size), h17, bent,
                                          cp.rootHash));
  }
  await refuses('inclusion proof of 17 with a hash missing', () =>
      v.verifyInclusion(17n, BigInt(p17.tree_size), h17, path17.slice(1),
                        cp.rootHash));
  await refuses('inclusion proof of 17 used for leaf 18', () =>
      v.verifyInclusion(18n, BigInt(p17.tree_size), h17, path17, cp.rootHash));
  await refuses('leaf 17 with one bit flipped', async () =>
      v.verifyInclusion(17n, BigInt(p17.tree_size),
                        await v.leafHash(flipBit(v.b64decode(good.leaves[17]), 3, 0)),
                        path17, cp.rootHash));

  // The fixture logs agency-b's requests: every fifth refused.
  for (const i of [0, 17]) {
    const e = v.readLoggedEntry(v.b64decode(good.leaves[i]));
    record(e.kind === (i % 5 === 0 ? 2 : 1) && e.agencyId === 'agency-b' &&
           e.principal === 'caseworker-1' && e.requestId === 'req-' + i &&
           e.timeUnixNanos === 1700000000000000000n + BigInt(i * 1000),
           'logged entry ' + i + ' reads back: kind ' + e.kind + ', ' +
           e.agencyId + ', ' + e.principal + ', ' + e.requestId);
  }
  await refuses('a leaf cut short', () =>
      v.readLoggedEntry(v.b64decode(good.leaves[0]).slice(0, 10)));

  const t17 = await v.leafHash(v.b64decode(tampered.leaves[17]));
  await refuses('altered stored leaf 17 (haven_audit_fixture --tamper-leaf 17)',
                () => v.verifyInclusion(17n, BigInt(p17.tree_size), t17, path17,
                                        cp.rootHash));

  for (const p of good.consistency_proofs) {
    const hashes = p.hashes.map(v.b64decode);
    const oldRoot = v.b64decode(p.old_root);
    await accepts('consistency ' + p.old_size + ' -> ' + p.new_size, () =>
        v.verifyConsistency(BigInt(p.old_size), BigInt(p.new_size), hashes,
                            oldRoot, cp.rootHash));
    if (hashes.length > 0) {
      const bent = hashes.slice();
      bent[0] = flipBit(bent[0], 0, 0);
      await refuses('consistency ' + p.old_size + ' -> ' + p.new_size +
                    ' with one bit flipped', () =>
          v.verifyConsistency(BigInt(p.old_size), BigInt(p.new_size), bent,
                              oldRoot, cp.rootHash));
      await refuses('consistency ' + p.old_size + ' -> ' + p.new_size +
                    ' from another old root', () =>
          v.verifyConsistency(BigInt(p.old_size), BigInt(p.new_size), hashes,
                              flipBit(oldRoot, 5, 2), cp.rootHash));
    }
    if (old && BigInt(p.old_size) === old.treeSize) {
      record(v.bytesEqual(oldRoot, old.rootHash),
             'older checkpoint\'s root is the proof\'s old root');
    }
  }
  await refuses('a log that shrank', () =>
      v.verifyConsistency(cp.treeSize, old.treeSize, [], cp.rootHash,
                          old.rootHash));
}

run().catch((e) => record(false, 'threw: ' + e.message)).finally(() => {
  document.getElementById('result').textContent = lines.join('\n');
  document.title = failed === 0 && lines.length > 0 ? 'PASS' : 'FAIL';
});
