#!/usr/bin/python3
"""A node double for the auditor page's browser test: a gRPC proxy in front
of a real havend's local API that answers as the node does, except that it
can tamper with two answers:

  --mode flip-proof   GetInclusionProof: one bit of the first proof hash
                      flipped (of the leaf hash if the proof is empty)
  --mode other-key    GetCheckpoint: the same checkpoint text signed by a
                      fresh Ed25519 key under the log's name (and that key
                      given as the response's verifier_key, as a lying node
                      would)
  --mode flip-consistency
                      GetConsistencyProof: one bit of the first hash flipped
  --mode none         everything passed through

With --mode-file, the mode is read from that file at each call (its first
line; --mode while it is missing or empty), so that one double serves a
test's scenarios in turn.

Every other call (its metadata, bearer token included) is forwarded to the
node unchanged, as raw bytes. Serves TLS with the node's own certificate
on 127.0.0.1 and prints "LISTENING <port>" once it serves; stops on SIGTERM.

  node_double.py --stubs DIR --node HOST:PORT --ca CA --server-name NAME
                 --cert CRT --key KEY --mode MODE [--mode-file FILE]
                 [--port N]
"""

import argparse
import base64
import hashlib
import signal
import sys
import threading
from concurrent import futures

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MODES = ("none", "flip-proof", "other-key", "flip-consistency")
STREAMS = {"/haven.v1.AuditService/Follow",
           "/haven.v1.ExchangeService/WatchNotices"}


def resign(note, key):
    """The note's text signed by `key` alone, under the same name, and the
    key's verifier key."""
    split = note.rindex("\n\n")
    text = note[:split + 1]
    name = note[split + 2:].split("\n")[0].split(" ")[1]
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    sig = key.sign(text.encode())
    line = "\u2014 %s %s\n" % (name, base64.b64encode(key_id + sig).decode())
    vkey = "%s+%s+%s" % (name, key_id.hex(),
                         base64.b64encode(b"\x01" + pub).decode())
    return text + "\n" + line, vkey


class Proxy(grpc.GenericRpcHandler):
    def __init__(self, channel, mode, mode_file, audit_pb2):
        self.channel = channel
        self.default_mode = mode
        self.mode_file = mode_file
        self.audit_pb2 = audit_pb2
        self.other_key = Ed25519PrivateKey.generate()
        self.lock = threading.Lock()
        self.tampered = 0

    def mode(self):
        if self.mode_file:
            try:
                with open(self.mode_file, encoding="utf-8") as f:
                    mode = f.readline().strip()
                if mode in MODES:
                    return mode
            except OSError:
                pass
        return self.default_mode

    def tamper(self, method, raw):
        pb = self.audit_pb2
        mode = self.mode()
        if mode == "flip-proof" and method == "/haven.v1.AuditService/GetInclusionProof":
            resp = pb.GetInclusionProofResponse.FromString(raw)
            if resp.proof.hashes:
                h = bytearray(resp.proof.hashes[0])
                h[0] ^= 0x01
                resp.proof.hashes[0] = bytes(h)
            else:
                h = bytearray(resp.proof.leaf_hash)
                h[0] ^= 0x01
                resp.proof.leaf_hash = bytes(h)
        elif mode == "other-key" and method == "/haven.v1.AuditService/GetCheckpoint":
            resp = pb.GetCheckpointResponse.FromString(raw)
            note, vkey = resign(resp.checkpoint.note, self.other_key)
            resp.checkpoint.note = note
            resp.verifier_key = vkey
        elif mode == "flip-consistency" and method == "/haven.v1.AuditService/GetConsistencyProof":
            resp = pb.GetConsistencyProofResponse.FromString(raw)
            if not resp.proof.hashes:
                return raw
            h = bytearray(resp.proof.hashes[0])
            h[0] ^= 0x01
            resp.proof.hashes[0] = bytes(h)
        else:
            return raw
        with self.lock:
            self.tampered += 1
        print("TAMPERED %s" % method, flush=True)
        return resp.SerializeToString()

    def service(self, details):
        method = details.method
        metadata = [(k, v) for k, v in details.invocation_metadata
                    if not k.startswith(":")]
        if method in STREAMS:
            call = self.channel.unary_stream(method)

            def stream(request, context):
                try:
                    for item in call(request, metadata=metadata, timeout=300):
                        yield item
                except grpc.RpcError as e:
                    context.abort(e.code(), e.details())
            return grpc.unary_stream_rpc_method_handler(stream)
        call = self.channel.unary_unary(method)

        def unary(request, context):
            try:
                raw = call(request, metadata=metadata, timeout=60)
            except grpc.RpcError as e:
                context.abort(e.code(), e.details())
            return self.tamper(method, raw)
        return grpc.unary_unary_rpc_method_handler(unary)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stubs", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--server-name", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--mode-file", default="")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    sys.path.insert(0, args.stubs)
    from haven.v1 import audit_pb2  # noqa: E402

    with open(args.ca, "rb") as f:
        ca = f.read()
    with open(args.cert, "rb") as f:
        cert = f.read()
    with open(args.key, "rb") as f:
        key = f.read()
    channel = grpc.secure_channel(
        args.node, grpc.ssl_channel_credentials(root_certificates=ca),
        options=[("grpc.ssl_target_name_override", args.server_name)])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((Proxy(channel, args.mode, args.mode_file, audit_pb2),))
    port = server.add_secure_port(
        "127.0.0.1:%d" % args.port,
        grpc.ssl_server_credentials([(key, cert)]))
    if port == 0:
        print("node_double: cannot listen", file=sys.stderr)
        return 1
    server.start()
    print("LISTENING %d" % port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(2).wait()
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
