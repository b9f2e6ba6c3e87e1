// An independent verifier for a Haven node's audit log, run in the browser.
//
// It shares no code with the node or with client/verify: the rules are
// written out here from the specifications, and the only primitives used
// are the browser's own WebCrypto SHA-256 and Ed25519.
//
//   C2SP signed-note (c2sp.org/signed-note), Ed25519 keys:
//     note      = text "\n" 1*signature-line
//     sig line  = "— " name " " base64(key id (4 bytes) || signature) "\n"
//     key id    = first 4 bytes of SHA-256(name || "\n" || 0x01 || pubkey)
//     vkey      = name "+" hex(key id) "+" base64(0x01 || pubkey)
//   C2SP tlog-checkpoint body: origin "\n" tree size "\n" base64 root "\n"
//     (extension lines may follow)
//   RFC 6962 / RFC 9162 Merkle trees: leaf hash SHA-256(0x00 || leaf),
//     interior SHA-256(0x01 || left || right); inclusion proofs checked by
//     RFC 9162 2.1.3.2, consistency proofs by RFC 9162 2.1.4.2.
//
// Tree sizes and indexes are BigInt (the node's JSON gives int64 as
// strings). Hashes, keys and leaves are Uint8Array. Every check that fails
// throws a VerifyError whose message says, in plain words, what did not
// hold.

export class VerifyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'VerifyError';
  }
}

function fail(message) {
  throw new VerifyError(message);
}

const EM_DASH = '\u2014';
const ALG_ED25519 = 0x01;
const HASH_BYTES = 32;

// ---- bytes ------------------------------------------------------------------

// Strict base64 (standard alphabet, padded, canonical): anything else is
// refused, so one value has one encoding.
export function b64decode(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0 ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    fail('not base64: ' + JSON.stringify(String(text).slice(0, 40)));
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64encode(out) !== text) fail('non-canonical base64');
  return out;
}

export function b64encode(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// ---- signed notes -----------------------------------------------------------

function validName(name) {
  return name.length > 0 && !/[\s+]/u.test(name);
}

async function keyIdFor(name, publicKey) {
  const h = await sha256(concat(new TextEncoder().encode(name + '\n'),
                                Uint8Array.of(ALG_ED25519), publicKey));
  return h.slice(0, 4);
}

// Parses "<name>+<8 hex key id>+<base64(0x01 || 32-byte key)>" and checks
// that the key id belongs to the name and key.
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== 'string') fail('verifier key is not text');
  const parts = vkey.split('+');
  // The base64 part may itself hold '+': the name and id hold none.
  if (parts.length < 3) fail('verifier key is not name+id+key');
  const name = parts[0];
  const idHex = parts[1];
  const keyB64 = parts.slice(2).join('+');
  if (!validName(name)) fail('verifier key has a bad name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) fail('verifier key id is not 8 hex digits');
  const raw = b64decode(keyB64);
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) {
    fail('verifier key is not an Ed25519 key');
  }
  const publicKey = raw.slice(1);
  const keyId = await keyIdFor(name, publicKey);
  if (toHex(keyId) !== idHex) fail('verifier key id does not match its key');
  return {name, keyId, publicKey};
}

// Splits a note into its signed text and its signature lines.
export function parseNote(note) {
  if (typeof note !== 'string') fail('checkpoint note is not text');
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) {
    fail('checkpoint note holds a control character');
  }
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('checkpoint note has no signature block');
  const text = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  if (!sigBlock.endsWith('\n')) fail('checkpoint note does not end in a newline');
  const signatures = [];
  for (const line of sigBlock.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m || !line.startsWith(EM_DASH + ' ')) {
      fail('checkpoint note has a malformed signature line');
    }
    const blob = b64decode(m[2]);
    if (blob.length < 5) fail('checkpoint signature is too short');
    signatures.push({name: m[1], keyId: blob.slice(0, 4), signature: blob.slice(4)});
  }
  if (signatures.length === 0) fail('checkpoint note is not signed');
  if (signatures.length > 100) fail('checkpoint note has too many signatures');
  return {text, signatures};
}

// Parses a checkpoint body (the signed text).
export function parseCheckpointBody(text) {
  const lines = text.split('\n');
  // text ends in "\n": the last element is empty.
  lines.pop();
  if (lines.length < 3) fail('checkpoint has fewer than three lines');
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0) fail('checkpoint has no origin');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeText)) fail('checkpoint tree size is not a number');
  const treeSize = BigInt(sizeText);
  if (treeSize >= (1n << 64n)) fail('checkpoint tree size is too large');
  const rootHash = b64decode(rootText);
  if (rootHash.length !== HASH_BYTES) fail('checkpoint root hash is not 32 bytes');
  for (const ext of lines.slice(3)) {
    if (ext.length === 0) fail('checkpoint has an empty line');
  }
  return {origin, treeSize, rootHash, extensions: lines.slice(3)};
}

// Verifies a checkpoint note under one of the pinned verifier keys
// (strings). The checkpoint's origin must be the name of the key that
// signed it. Returns {origin, treeSize, rootHash, keyName, note}.
export async function verifyCheckpoint(note, pinnedKeys) {
  if (!Array.isArray(pinnedKeys) || pinnedKeys.length === 0) {
    fail('no verifier key is pinned for this node');
  }
  const keys = [];
  for (const k of pinnedKeys) keys.push(await parseVerifierKey(k));
  const {text, signatures} = parseNote(note);
  const textBytes = new TextEncoder().encode(text);
  let sawKey = false;
  for (const key of keys) {
    for (const sig of signatures) {
      if (sig.name !== key.name || !bytesEqual(sig.keyId, key.keyId)) continue;
      sawKey = true;
      if (sig.signature.length !== 64) fail('the signature is not 64 bytes');
      const pub = await crypto.subtle.importKey(
          'raw', key.publicKey, {name: 'Ed25519'}, false, ['verify']);
      const ok = await crypto.subtle.verify(
          {name: 'Ed25519'}, pub, sig.signature, textBytes);
      if (!ok) fail('the checkpoint signature by the pinned key is invalid');
      const body = parseCheckpointBody(text);
      if (body.origin !== key.name) {
        fail('the checkpoint names another log (' + body.origin + ')');
      }
      return {...body, keyName: key.name, note};
    }
  }
  if (!sawKey) fail('the checkpoint is not signed by the pinned key');
  fail('the checkpoint could not be verified');
}

// ---- RFC 6962 / RFC 9162 Merkle trees ---------------------------------------

export async function leafHash(leaf) {
  return sha256(concat(Uint8Array.of(0x00), leaf));
}

async function hashChildren(left, right) {
  return sha256(concat(Uint8Array.of(0x01), left, right));
}

function checkHashes(list, what) {
  for (const h of list) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) {
      fail(what + ' holds a hash that is not 32 bytes');
    }
  }
}

// RFC 9162 2.1.3.2: is `hash` the leaf at `index` of the tree of `size`
// leaves whose root is `root`?
export async function verifyInclusion(index, size, hash, proof, root) {
  index = BigInt(index);
  size = BigInt(size);
  if (index >= size) fail('the proof is for an entry past the tree size');
  checkHashes([hash, root], 'the inclusion check');
  checkHashes(proof, 'the inclusion proof');
  let fn = index;
  let sn = size - 1n;
  let r = hash;
  for (const p of proof) {
    if (sn === 0n) fail('the inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('the inclusion proof is too short');
  if (!bytesEqual(r, root)) {
    fail('the inclusion proof does not lead to the checkpoint\'s root hash');
  }
}

// RFC 9162 2.1.4.2: does the tree of size2 leaves with root2 extend the
// tree of size1 leaves with root1?
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  size1 = BigInt(size1);
  size2 = BigInt(size2);
  checkHashes([root1, root2], 'the consistency check');
  checkHashes(proof, 'the consistency proof');
  if (size1 > size2) fail('the log is smaller than a checkpoint seen before');
  if (size1 === size2) {
    if (proof.length !== 0) fail('the consistency proof should be empty');
    if (!bytesEqual(root1, root2)) {
      fail('two checkpoints of the same size have different root hashes');
    }
    return;
  }
  if (size1 === 0n) {
    if (proof.length !== 0) fail('the consistency proof should be empty');
    return;
  }
  if (proof.length === 0) fail('the consistency proof is empty');
  let path = proof;
  if ((size1 & (size1 - 1n)) === 0n) path = [root1, ...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) fail('the consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await hashChildren(c, fr);
      sr = await hashChildren(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('the consistency proof is too short');
  if (!bytesEqual(fr, root1)) {
    fail('the log does not extend the checkpoint seen before (old root differs)');
  }
  if (!bytesEqual(sr, root2)) {
    fail('the log does not extend the checkpoint seen before (new root differs)');
  }
}

// ---- the logged entry -------------------------------------------------------

// Reads the plain fields of an AuditEntry (audit.proto) from the leaf bytes
// as logged, with a minimal protobuf wire-format reader, so that the page
// can check that the entry it shows is the one the proof covers. Returns
// {kind (number), timeUnixNanos (BigInt), agencyId, principal,
// subjectPseudonym, requestId, detail, justification}; absent fields are
// 0 / 0n / ''.
export function readLoggedEntry(leaf) {
  const out = {kind: 0, timeUnixNanos: 0n, agencyId: '', principal: '',
               subjectPseudonym: '', requestId: '', detail: '', justification: ''};
  const strings = {3: 'agencyId', 4: 'principal', 5: 'subjectPseudonym',
                   12: 'justification', 13: 'requestId', 14: 'detail'};
  const dec = new TextDecoder('utf-8', {fatal: true});
  let at = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= leaf.length) fail('the logged entry is cut short');
      const b = leaf[at++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
    fail('the logged entry holds a malformed number');
  };
  while (at < leaf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const v = varint();
      if (field === 1) out.kind = Number(v);
      if (field === 2) out.timeUnixNanos = BigInt.asIntN(64, v);
    } else if (wire === 2) {
      const n = Number(varint());
      if (n > leaf.length - at) fail('the logged entry is cut short');
      const bytes = leaf.subarray(at, at + n);
      at += n;
      if (strings[field]) out[strings[field]] = dec.decode(bytes);
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      fail('the logged entry is not a protobuf message');
    }
  }
  if (at !== leaf.length) fail('the logged entry is cut short');
  return out;
}
