#!/usr/bin/python3
"""Haven from Python: ask a peer agency for a survivor's data, then read the
audit log, through your own node's local API.

Uses Debian's python3-grpcio and stubs generated from proto/ by protoc and
grpc_python_plugin (the build puts them in build/python). Example:

  /usr/bin/python3 client/examples/python/disclosure_example.py \
      --stubs build/python --node 127.0.0.1:7442 --ca ca.crt \
      --server-name legal-aid --caseworker-token-file tokens/caseworker \
      --auditor-token-file tokens/auditor \
      --holder safe-harbor --handle HANDLE \
      --purpose LEGAL_REPRESENTATION --category CONTACT --category IMMIGRATION

Exit codes: 0 ok, 1 the node refused, 2 usage.
"""
import argparse
import sys


def read_token(path):
    with open(path) as f:
        return f.readline().strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stubs", required=True, help="generated Python stubs")
    parser.add_argument("--node", required=True, help="host:port of your node")
    parser.add_argument("--ca", required=True, help="task-force CA certificate")
    parser.add_argument("--server-name", required=True, help="your node's agency id")
    parser.add_argument("--caseworker-token-file", required=True)
    parser.add_argument("--auditor-token-file", required=True)
    parser.add_argument("--holder", required=True, help="agency holding the data")
    parser.add_argument("--handle", required=True, help="subject handle from the holder")
    parser.add_argument("--purpose", required=True)
    parser.add_argument("--category", action="append", required=True)
    parser.add_argument("--justification", default="")
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    import grpc
    from haven.v1 import audit_pb2, audit_pb2_grpc, common_pb2
    from haven.v1 import exchange_pb2, exchange_pb2_grpc, policy_pb2

    with open(args.ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    options = [("grpc.ssl_target_name_override", args.server_name)]
    caseworker = [("authorization", "Bearer " + read_token(args.caseworker_token_file))]
    auditor = [("authorization", "Bearer " + read_token(args.auditor_token_file))]

    with grpc.secure_channel(args.node, credentials, options=options) as channel:
        exchange = exchange_pb2_grpc.ExchangeServiceStub(channel)
        request = exchange_pb2.RequestDisclosureRequest(
            holder_agency_id=args.holder,
            handle=args.handle,
            purpose=common_pb2.Purpose.Value(args.purpose),
            categories=[common_pb2.Category.Value(c) for c in args.category],
            justification=args.justification)
        try:
            reply = exchange.RequestDisclosure(request, metadata=caseworker, timeout=20)
        except grpc.RpcError as error:
            print(f"refused: {error.code().name}: {error.details()}")
            return 1
        for decision in reply.decision.categories:
            verdict = "allowed" if decision.allowed else "withheld"
            print(f"{common_pb2.Category.Name(decision.category)}: {verdict} "
                  f"({policy_pb2.DecisionReason.Name(decision.reason)})")
        for field in reply.fields:
            print(f"  {field.name} [{common_pb2.Category.Name(field.category)}]: "
                  f"{field.value.decode()}")
        print(f"holder audit index {reply.holder_audit_index}, "
              f"our receipt index {reply.receipt_audit_index}")

        audit = audit_pb2_grpc.AuditServiceStub(channel)
        checkpoint = audit.GetCheckpoint(audit_pb2.GetCheckpointRequest(),
                                         metadata=auditor, timeout=10)
        print(f"our log: {checkpoint.checkpoint.tree_size} entries, "
              f"origin {checkpoint.checkpoint.origin}")
        entries = audit.GetEntries(
            audit_pb2.GetEntriesRequest(start=reply.receipt_audit_index, count=1),
            metadata=auditor, timeout=10)
        entry = entries.entries[0].entry
        print(f"receipt entry: {audit_pb2.EntryKind.Name(entry.kind)} from "
              f"{entry.agency_id}, request {entry.request_id}")
        if entry.kind != audit_pb2.DISCLOSURE_RECEIVED:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
