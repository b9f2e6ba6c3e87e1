#!/usr/bin/python3
"""Independent verifier for a Haven audit log export.

Shares no code with Haven's client/: the RFC 6962 / RFC 9162 Merkle rules and
the C2SP signed-note / tlog-checkpoint rules are written out here from the
specifications, using only hashlib, base64 and `cryptography`'s Ed25519.

Input: a JSON file
  {"checkpoint": <signed note>, "verifier_key": "<name>+<hex id>+<base64>",
   "origin": "...",                       (optional, checked if present)
   "old_checkpoint": <signed note>,       (optional, an earlier trusted one)
   "leaves": [<base64 leaf>...],          (every leaf, index 0 first)
   "inclusion_proofs": [{"leaf_index", "tree_size", "leaf_hash", "hashes"}],
   "consistency_proofs": [{"old_size", "old_root", "new_size", "hashes"}]}

Prints "OK: ..." and exits 0, or prints "FAIL: ..." and exits 1.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failure(Exception):
    pass


def b64decode_strict(text):
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise Failure("non-canonical base64: %r" % text)
    return raw


# ---- RFC 6962 section 2.1 --------------------------------------------------

def hash_leaf(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def hash_children(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaf_hashes):
    """MTH(D[n]) from the leaf hashes, by the recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = largest_power_of_two_below(n)
    return hash_children(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


# ---- RFC 9162 section 2.1.3.2: verifying an inclusion proof ----------------

def verify_inclusion(leaf_index, tree_size, leaf_hash, path, root):
    if leaf_index >= tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = hash_children(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---- RFC 9162 section 2.1.4.2: verifying a consistency proof ---------------

def verify_consistency(first, second, first_hash, second_hash, path):
    if first > second:
        return False
    if first == second:
        return not path and first_hash == second_hash
    if first == 0:
        return not path
    path = list(path)
    if first & (first - 1) == 0:  # first is an exact power of two
        path.insert(0, first_hash)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---- C2SP signed-note and tlog-checkpoint ----------------------------------

EM_DASH_PREFIX = "\u2014 "


def valid_name(name):
    return name != "" and "+" not in name and not any(c.isspace() for c in name)


def parse_verifier_key(vkey):
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise Failure("verifier key is not name+id+key")
    name, hex_id, key_b64 = parts
    if not valid_name(name):
        raise Failure("verifier key name is invalid")
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise Failure("verifier key id is not 8 lower-case hex digits")
    raw = b64decode_strict(key_b64)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Failure("verifier key is not an Ed25519 key")
    public_key = raw[1:]
    # key id = first 4 bytes of SHA-256(name || "\n" || 0x01 || public key)
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key).digest()[:4]
    if key_id.hex() != hex_id:
        raise Failure("verifier key id does not match name and key")
    return name, key_id, public_key


def open_note(note, vkey):
    """Returns the signed text if `note` carries a valid signature by vkey."""
    name, key_id, public_key = parse_verifier_key(vkey)
    for ch in note:
        if ord(ch) < 0x20 and ch != "\n":
            raise Failure("note holds a control character")
    split = note.rfind("\n\n")
    if split < 0:
        raise Failure("note has no blank line before its signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise Failure("note's signature block is empty or unterminated")
    verified = False
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH_PREFIX):
            raise Failure("signature line does not start with an em dash")
        sig_name, _, sig_b64 = line[len(EM_DASH_PREFIX) :].partition(" ")
        blob = b64decode_strict(sig_b64)
        if not valid_name(sig_name) or len(blob) < 5:
            raise Failure("malformed signature line")
        if sig_name != name or blob[:4] != key_id:
            continue  # someone else's signature (e.g. a witness)
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                blob[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise Failure("checkpoint signature by %s is invalid" % name)
        verified = True
    if not verified:
        raise Failure("note has no signature by %s" % name)
    return text


def parse_checkpoint(text):
    if not text.endswith("\n"):
        raise Failure("checkpoint text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(line == "" for line in lines):
        raise Failure("checkpoint needs origin, size and root lines")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise Failure("checkpoint tree size is not a canonical decimal")
    root = b64decode_strict(root_b64)
    if len(root) != 32:
        raise Failure("checkpoint root is not 32 bytes")
    return origin, int(size_text), root


# ---- the checks -------------------------------------------------------------

def verify(doc):
    vkey = doc["verifier_key"]
    origin, size, root = parse_checkpoint(open_note(doc["checkpoint"], vkey))
    if doc.get("origin") and origin != doc["origin"]:
        raise Failure("checkpoint origin %r, want %r" % (origin, doc["origin"]))

    leaves = [b64decode_strict(x) for x in doc["leaves"]]
    if len(leaves) != size:
        raise Failure("checkpoint covers %d leaves but %d were given" % (size, len(leaves)))
    hashes = [hash_leaf(leaf) for leaf in leaves]

    # Each leaf against its inclusion proof, in index order, so the first bad
    # leaf is the one named.
    proofs = sorted(doc.get("inclusion_proofs", []), key=lambda p: p["leaf_index"])
    for p in proofs:
        i, n = p["leaf_index"], p["tree_size"]
        path = [b64decode_strict(h) for h in p["hashes"]]
        if n != size:
            raise Failure("inclusion proof for leaf %d is for size %d, not %d" % (i, n, size))
        if b64decode_strict(p["leaf_hash"]) != hashes[i]:
            raise Failure("leaf %d does not hash to the leaf hash the log proves" % i)
        if not verify_inclusion(i, n, hashes[i], path, root):
            raise Failure("leaf %d: inclusion proof does not lead to the checkpoint root" % i)

    if mth(hashes) != root:
        raise Failure("the %d leaves do not hash to the checkpoint root" % size)

    for p in doc.get("consistency_proofs", []):
        m, n = p["old_size"], p["new_size"]
        old_root = b64decode_strict(p["old_root"])
        path = [b64decode_strict(h) for h in p["hashes"]]
        if n != size:
            raise Failure("consistency proof ends at %d, not %d" % (n, size))
        if m > size or mth(hashes[:m]) != old_root:
            raise Failure("old root for size %d does not match the leaves" % m)
        if not verify_consistency(m, n, old_root, root, path):
            raise Failure("consistency proof %d -> %d does not verify" % (m, n))

    if doc.get("old_checkpoint"):
        _, old_size, old_root = parse_checkpoint(open_note(doc["old_checkpoint"], vkey))
        if old_size > size:
            raise Failure("log shrank from %d to %d entries" % (old_size, size))
        matching = [p for p in doc.get("consistency_proofs", []) if p["old_size"] == old_size]
        if not matching:
            raise Failure("no consistency proof from the trusted size %d" % old_size)
        path = [b64decode_strict(h) for h in matching[0]["hashes"]]
        if not verify_consistency(old_size, size, old_root, root, path):
            raise Failure("log is not consistent with the trusted checkpoint at %d" % old_size)

    return "checkpoint %s size %d: signature, %d leaves, %d inclusion and %d consistency proofs verified" % (
        origin, size, len(leaves), len(proofs), len(doc.get("consistency_proofs", [])))


def self_test():
    """RFC 6962 reference vectors, so the verifier itself is checked."""
    leaves = [bytes.fromhex(h) for h in (
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f")]
    hashes = [hash_leaf(x) for x in leaves]
    assert mth(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert mth(hashes[:5]).hex() == "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"
    path = [bytes.fromhex(h) for h in (
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    assert verify_inclusion(5, 8, hashes[5], path, mth(hashes))
    cons = [bytes.fromhex(h) for h in (
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    assert verify_consistency(6, 8, mth(hashes[:6]), mth(hashes), cons)
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = ("If you think cryptography is the answer to your problem,\n"
            "then you don't know what your problem is.\n")
    note = text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    assert open_note(note, vkey) == text


def main(argv):
    if len(argv) != 2:
        print("usage: verify_log.py EXPORT.json", file=sys.stderr)
        return 2
    self_test()
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    try:
        print("OK: " + verify(doc))
        return 0
    except Failure as e:
        print("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
