// fuzz_seeds: writes the seed corpora of the fuzz targets that need signed
// or binary seeds, with the project's own code and the fixed keys of
// fuzz_keys.h, under the corpus directory given as its one argument:
//
//   build/tests/fuzz/fuzz_seeds tests/fuzz/corpus
//
// Each target gets valid inputs that reach deep (really signed notes,
// batches and receipts; requests the holder answers) and damaged variants
// (truncated, garbled, signed by the wrong key, out of bounds). Output is
// deterministic (Ed25519 signatures are), so running it again rewrites the
// same files; it does not remove seeds added by hand or by fuzzing. The
// policy corpus is written by hand and left alone.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "client/verify/proof_bundle.h"
#include "client/verify/signed_batch.h"
#include "client/verify/signed_manifest.h"
#include "client/verify/signed_note.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/consent.pb.h"
#include "haven/v1/exchange.pb.h"
#include "server/consent/receipt.h"
#include "server/crypto/digest.h"
#include "server/exchange/signing.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_keys.h"
#include "tests/testing/in_process_holder.h"

namespace haven::fuzz {
namespace {

namespace fs = std::filesystem;
using server::crypto::Ed25519Signer;
using server::exchange::Deterministic;

// The fake clock of the in-process holder and test logs.
constexpr int64_t kNow = testing::InProcessHolder::kNow;

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& name,
             const std::string& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
      ok_ = false;
    }
    ++written_;
  }
  bool ok() const { return ok_; }
  int written() const { return written_; }

 private:
  fs::path root_;
  bool ok_ = true;
  int written_ = 0;
};

std::string Truncated(const std::string& s) {
  return s.substr(0, s.size() / 2);
}

std::string FlipByte(std::string s, size_t at) {
  if (!s.empty()) s[at % s.size()] ^= 0x01;
  return s;
}

std::vector<std::string> LeafHashes(int n) {
  std::vector<std::string> hashes;
  for (int i = 0; i < n; ++i) {
    hashes.push_back(client::HashLeaf(absl::StrCat("entry-", i)));
  }
  return hashes;
}

std::string Root(const std::vector<std::string>& hashes, size_t size) {
  return client::RootFromLeafHashes(
      std::vector<std::string>(hashes.begin(), hashes.begin() + size));
}

std::string SignatureLine(const std::string& name, const Ed25519Signer& signer,
                          const std::string& text) {
  return client::FormatSignatureLine(name,
                                     client::NoteKeyId(name, PublicKey(signer)),
                                     signer.SignToString(text));
}

std::string CheckpointText(const std::string& origin, uint64_t size,
                           const std::string& root,
                           std::vector<std::string> extensions = {}) {
  client::CheckpointBody body;
  body.origin = origin;
  body.tree_size = size;
  body.root_hash = root;
  body.extensions = std::move(extensions);
  return client::FormatCheckpointBody(body);
}

void SignedNotes(Corpus& c, const Ed25519Signer& trusted,
                 const Ed25519Signer& other) {
  const std::string t = "signed_note";
  const auto hashes = LeafHashes(7);
  const std::string text = CheckpointText(kTrustedKeyName, 7, Root(hashes, 7));
  const std::string signed_note =
      text + "\n" + SignatureLine(kTrustedKeyName, trusted, text);
  c.Write(t, "checkpoint", signed_note);
  c.Write(t, "checkpoint-cosigned",
          signed_note + SignatureLine(kOtherKeyName, other, text));
  const std::string ext = CheckpointText(kTrustedKeyName, 7, Root(hashes, 7),
                                         {"witnessed-by legal-aid", "x"});
  c.Write(t, "checkpoint-extensions",
          ext + "\n" + SignatureLine(kTrustedKeyName, trusted, ext));
  const std::string empty =
      CheckpointText(kTrustedKeyName, 0, client::EmptyRoot());
  c.Write(t, "checkpoint-empty-tree",
          empty + "\n" + SignatureLine(kTrustedKeyName, trusted, empty));
  const std::string foreign = CheckpointText(kOtherKeyName, 7, Root(hashes, 7));
  c.Write(t, "checkpoint-other-origin",
          foreign + "\n" + SignatureLine(kTrustedKeyName, trusted, foreign));
  c.Write(t, "checkpoint-other-key",
          text + "\n" + SignatureLine(kOtherKeyName, other, text));
  c.Write(t, "checkpoint-wrong-name",
          text + "\n" + SignatureLine(kOtherKeyName, trusted, text));
  c.Write(t, "checkpoint-bad-signature",
          text + "\n" +
              client::FormatSignatureLine(
                  kTrustedKeyName,
                  client::NoteKeyId(kTrustedKeyName, PublicKey(trusted)),
                  FlipByte(trusted.SignToString(text), 9)));
  c.Write(t, "checkpoint-truncated", Truncated(signed_note));
  const std::string padded =
      absl::StrCat(kTrustedKeyName, "\n007\n",
                   text.substr(text.find('\n', text.find('\n') + 1) + 1));
  c.Write(t, "checkpoint-noncanonical-size",
          padded + "\n" + SignatureLine(kTrustedKeyName, trusted, padded));
  c.Write(t, "checkpoint-body", text);
  c.Write(t, "verifier-key", VerifierKey(kTrustedKeyName, trusted));
  std::string bad_id = VerifierKey(kTrustedKeyName, trusted);
  bad_id[std::string(kTrustedKeyName).size() + 1] ^= 0x01;
  c.Write(t, "verifier-key-bad-id", bad_id);
  c.Write(t, "not-utf8", "safe-harbor.haven/log\n\xff\xfe\n\n\xe2\x80\x94 x\n");
}

void MerkleProofs(Corpus& c) {
  const std::string t = "merkle_proofs";
  const auto hashes = LeafHashes(7);
  auto hash_list = [](FuzzInputWriter& w, const std::vector<std::string>& v) {
    w.Byte(static_cast<uint8_t>(v.size()));
    for (const std::string& h : v) w.ShortString(h);
  };

  auto inclusion = *client::InclusionProofFromLeafHashes(hashes, 2, 7);
  FuzzInputWriter valid;
  valid.Byte(0).U64(2).U64(7).ShortString(hashes[2]).ShortString(
      Root(hashes, 7));
  hash_list(valid, inclusion);
  c.Write(t, "inclusion", valid.str());
  FuzzInputWriter short_proof;
  short_proof.Byte(0).U64(2).U64(7).ShortString(hashes[2]).ShortString(
      Root(hashes, 7));
  hash_list(short_proof,
            std::vector<std::string>(inclusion.begin(), inclusion.end() - 1));
  c.Write(t, "inclusion-short-proof", short_proof.str());
  FuzzInputWriter huge;
  huge.Byte(0).U64(~uint64_t{0} - 1).U64(~uint64_t{0}).ShortString(hashes[0]);
  huge.ShortString(Root(hashes, 7)).Byte(0);
  c.Write(t, "inclusion-huge-size", huge.str());
  // A tree of more than 2^63 leaves, where the path to leaf 0 leaves the
  // right border at the root (the first crash this target found).
  const uint64_t above_2_63 = (uint64_t{1} << 63) + 1;
  FuzzInputWriter wide;
  wide.Byte(0).U64(0).U64(above_2_63).ShortString(hashes[0]);
  wide.ShortString(Root(hashes, 7)).Byte(0);
  c.Write(t, "inclusion-size-above-2-63", wide.str());
  FuzzInputWriter wide_consistency;
  wide_consistency.Byte(1).U64(1).U64(above_2_63).ShortString(hashes[0]);
  wide_consistency.ShortString(Root(hashes, 7)).Byte(0);
  c.Write(t, "consistency-size-above-2-63", wide_consistency.str());

  for (uint64_t size1 : {3, 4}) {
    auto proof = *client::ConsistencyProofFromLeafHashes(hashes, size1, 7);
    FuzzInputWriter w;
    w.Byte(1).U64(size1).U64(7).ShortString(Root(hashes, size1));
    w.ShortString(Root(hashes, 7));
    hash_list(w, proof);
    c.Write(t, absl::StrCat("consistency-", size1, "-7"), w.str());
  }

  // Tree mode: 7 leaves, index 2, size 7, size1 3, then one tamper of each
  // kind (four per input), each followed by the operands it reads.
  for (int first_op : {0, 4}) {
    FuzzInputWriter w;
    w.Byte(2).Byte(7);
    for (int i = 0; i < 7; ++i) w.ShortString(absl::StrCat("entry-", i));
    w.U64(2).U64(4).U64(3);
    for (int op = first_op; op < first_op + 4; ++op) {
      w.Byte(op).Byte(13);
      if (op < 2) w.Byte(5);
      if (op >= 6) w.U64(3).U64(7).U64(2).U64(7);
    }
    c.Write(t, absl::StrCat("tree-tamper-", first_op), w.str());
  }
  FuzzInputWriter big;
  big.Byte(2).Byte(200);
  for (int i = 0; i < 200; ++i) big.ShortString(std::string(1, char(i)));
  big.U64(137).U64(40).U64(64).Byte(1).Byte(200).Byte(7);
  c.Write(t, "tree-200", big.str());

  // Replay mode: 5 leaves, trusted size 3, then each kind of damage with
  // its operands: a leaf index and what to append to it, a size or bit
  // pick, or the text that replaces a note or the key.
  const std::string garbled_note =
      "safe-harbor.haven/log\n5\nAAAA\n\n\xe2\x80\x94 safe-harbor.haven/log "
      "AAAAAA==\n";
  for (int op = 0; op < 8; ++op) {
    FuzzInputWriter w;
    w.Byte(3).Byte(5);
    for (int i = 0; i < 5; ++i) w.ShortString(absl::StrCat("entry-", i));
    w.Byte(3).Byte(op % 2).Byte(op);
    if (op == 1) w.Byte(2).ShortString("tampered");
    if (op == 3 || op == 4) w.Byte(9);
    if (op == 5 || op == 6) w.Bytes(garbled_note);
    if (op == 7) w.Bytes("safe-harbor.haven/log+00000000+AQ==");
    c.Write(t, absl::StrCat("replay-op", op), w.str());
  }
}

haven::v1::DisclosureRequest Request(const std::string& id, int purpose,
                                     std::vector<int> categories) {
  haven::v1::DisclosureRequest r;
  r.set_request_id(id);
  r.set_sent_unix(kNow);
  r.set_requester_agency_id("legal-aid");
  r.set_handle(std::string(32, '0'));
  r.set_purpose(static_cast<haven::v1::Purpose>(purpose));
  for (int cat : categories) {
    r.add_categories(static_cast<haven::v1::Category>(cat));
  }
  r.set_requester_principal("caseworker-ana");
  return r;
}

haven::v1::DiscloseRequest Batch(
    const std::vector<haven::v1::DisclosureRequest>& requests,
    const Ed25519Signer& signer) {
  haven::v1::DiscloseRequest batch;
  for (const auto& r : requests) batch.add_requests(Deterministic(r));
  batch.set_signature(server::exchange::SignBatch(
      signer, client::kRequestBatchContext, batch.requests()));
  return batch;
}

std::string Flagged(uint8_t flags, const std::string& message) {
  return std::string(1, static_cast<char>(flags)) + message;
}

void SignedBatches(Corpus& c, const Ed25519Signer& trusted,
                   const Ed25519Signer& other) {
  const std::string t = "signed_batch";
  const std::string requests =
      Batch({Request("r-1", haven::v1::LEGAL_REPRESENTATION,
                     {haven::v1::CONTACT}),
             Request("r-2", haven::v1::CASE_COORDINATION,
                     {haven::v1::CASE_STATUS})},
            trusted)
          .SerializeAsString();
  c.Write(t, "requests", Flagged(0, requests));
  c.Write(t, "requests-truncated", Flagged(0, Truncated(requests)));
  c.Write(t, "requests-other-key",
          Flagged(0, Batch({Request("r-1", haven::v1::LEGAL_REPRESENTATION,
                                    {haven::v1::CONTACT})},
                           other)
                         .SerializeAsString()));

  haven::v1::DisclosureAnswer given;
  given.set_request_id("r-1");
  auto* d = given.mutable_disclosure();
  d->set_request_id("r-1");
  d->set_holder_agency_id("safe-harbor");
  d->set_requester_agency_id("legal-aid");
  auto* field = d->add_fields();
  field->set_name("phone");
  field->set_category(haven::v1::CONTACT);
  field->set_value("555-0100");
  d->set_audit_index(41);
  haven::v1::DisclosureAnswer refused;
  refused.set_request_id("r-2");
  refused.mutable_refusal()->set_code(5);
  refused.mutable_refusal()->set_message(
      "no such subject handle for this agency");
  haven::v1::DiscloseResponse response;
  response.add_answers(Deterministic(given));
  response.add_answers(Deterministic(refused));
  response.set_signature(server::exchange::SignBatch(
      trusted, client::kAnswerBatchContext, response.answers()));
  c.Write(t, "answers", Flagged(1, response.SerializeAsString()));
  haven::v1::DiscloseResponse wrong_context = response;
  wrong_context.set_signature(server::exchange::SignBatch(
      trusted, client::kRequestBatchContext, response.answers()));
  c.Write(t, "answers-request-context",
          Flagged(1, wrong_context.SerializeAsString()));
  haven::v1::DiscloseResponse garbled = response;
  garbled.set_answers(0, "\x0a\xff");
  garbled.set_signature(server::exchange::SignBatch(
      trusted, client::kAnswerBatchContext, garbled.answers()));
  c.Write(t, "answers-unparsable", Flagged(1, garbled.SerializeAsString()));

  haven::v1::SignedDisclosure evidence;
  evidence.set_answer(response.answers(0));
  for (const auto& digest : client::BatchDigests(response.answers())) {
    evidence.add_batch_sha256(digest);
  }
  evidence.set_batch_index(0);
  evidence.set_signature(response.signature());
  c.Write(t, "evidence", Flagged(2, evidence.SerializeAsString()));
  haven::v1::SignedDisclosure misplaced = evidence;
  misplaced.set_batch_index(1);
  c.Write(t, "evidence-wrong-index", Flagged(2, misplaced.SerializeAsString()));
  c.Write(t, "evidence-truncated",
          Flagged(2, Truncated(evidence.SerializeAsString())));
}

void HolderBatches(Corpus& c, const Ed25519Signer& peer,
                   const Ed25519Signer& other) {
  const std::string t = "holder_disclose";
  // Flags of holder_disclose_fuzz.cc.
  constexpr uint8_t kKeep = 0x01, kHandle = 0x02, kFresh = 0x04,
                    kNowFlag = 0x08;
  constexpr uint8_t kReach = kHandle | kFresh | kNowFlag;
  auto write = [&](const std::string& name, uint8_t flags,
                   const haven::v1::DiscloseRequest& batch) {
    c.Write(t, name, Flagged(flags, batch.SerializeAsString()));
  };
  write("contact-for-representation", kReach,
        Batch({Request("d-1", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT})},
              peer));
  write("contact-and-medical", kReach,
        Batch({Request("d-2", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT, haven::v1::MEDICAL,
                        haven::v1::IMMIGRATION})},
              peer));
  write("case-status-no-consent-needed", kReach,
        Batch({Request("d-3", haven::v1::CASE_COORDINATION,
                       {haven::v1::CASE_STATUS, haven::v1::CASE_NOTES})},
              peer));
  auto emergency = Request("d-4", haven::v1::EMERGENCY, {haven::v1::LOCATION});
  emergency.set_justification("imminent risk reported by the survivor");
  write("emergency-not-for-legal-aid", kReach, Batch({emergency}, peer));

  auto wrong_agency =
      Request("m-1", haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT});
  wrong_agency.set_requester_agency_id("metro-pd");
  auto stale =
      Request("m-2", haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT});
  stale.set_sent_unix(kNow - 3600);
  auto unknown =
      Request("m-3", haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT});
  auto no_categories = Request("m-4", haven::v1::LEGAL_REPRESENTATION, {});
  auto long_id = Request(std::string(80, 'i'), haven::v1::LEGAL_REPRESENTATION,
                         {haven::v1::CONTACT});
  write("mixed-refusals", kFresh,
        Batch({wrong_agency, stale, unknown, no_categories, long_id}, peer));
  write("replay-within-batch", kHandle | kNowFlag,
        Batch({Request("same", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT}),
               Request("same", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT})},
              peer));
  haven::v1::DiscloseRequest garbage;
  garbage.add_requests("\x0a\x05r-1");
  garbage.add_requests(
      std::string("\x30\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10));
  write("unparsable-requests", 0, garbage);
  write("empty-batch", 0, haven::v1::DiscloseRequest());
  std::vector<haven::v1::DisclosureRequest> many;
  for (int i = 0; i < 65; ++i) {
    many.push_back(Request(absl::StrCat("o-", i),
                           haven::v1::LEGAL_REPRESENTATION,
                           {haven::v1::CONTACT}));
  }
  write("over-64-requests", 0, Batch(many, peer));
  write("kept-peer-signature", kKeep,
        Batch({Request("k-1", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT})},
              peer));
  write("kept-forged-signature", kKeep,
        Batch({Request("k-2", haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT})},
              other));
}

void GranteeMessages(Corpus& c, const Ed25519Signer& trusted,
                     const Ed25519Signer& other) {
  const std::string t = "grantee_inbox";
  // Flags of grantee_inbox_fuzz.cc.
  constexpr uint8_t kNotice = 0x01, kKeep = 0x02, kOfferFirst = 0x04;
  const std::string handle = "0123456789abcdef0123456789abcdef";
  auto offer = [&](const std::string& h, const std::string& grantee,
                   const Ed25519Signer& signer) {
    haven::v1::OfferHandleRequest r;
    r.mutable_handle()->set_handle(h);
    r.mutable_handle()->set_holder_agency_id(kTrustedAgency);
    r.mutable_handle()->set_grantee_agency_id(grantee);
    r.mutable_handle()->set_issued_unix(kNow);
    r.set_signature(server::exchange::Sign(
        signer, server::exchange::kHandleContext, Deterministic(r.handle())));
    return r.SerializeAsString();
  };
  c.Write(t, "offer", Flagged(0, offer(handle, "legal-aid", trusted)));
  c.Write(t, "offer-kept-signature",
          Flagged(kKeep, offer(handle, "legal-aid", trusted)));
  c.Write(t, "offer-forged", Flagged(kKeep, offer(handle, "legal-aid", other)));
  c.Write(t, "offer-other-grantee",
          Flagged(0, offer(handle, "metro-pd", trusted)));
  c.Write(t, "offer-bad-handle",
          Flagged(0, offer("not-a-handle", "legal-aid", trusted)));
  c.Write(t, "offer-truncated",
          Flagged(0, Truncated(offer(handle, "legal-aid", trusted))));

  auto notice = [&](const std::string& change, bool withdrawn,
                    const std::string& h) {
    haven::v1::NotifyRevocationRequest r;
    auto* n = r.mutable_notice();
    n->set_notice_id("n-" + change);
    n->set_holder_agency_id(kTrustedAgency);
    n->set_handle(h);
    n->set_consent_id("fedcba9876543210fedcba9876543210");
    n->set_change(change);
    n->set_effective_unix(kNow);
    n->set_handle_withdrawn(withdrawn);
    r.set_signature(server::exchange::Sign(
        trusted, server::exchange::kNoticeContext, Deterministic(*n)));
    return r.SerializeAsString();
  };
  c.Write(t, "notice-revoked",
          Flagged(kNotice | kOfferFirst, notice("revoked", false, handle)));
  c.Write(t, "notice-withdrawn",
          Flagged(kNotice | kOfferFirst, notice("withdrawn", true, handle)));
  c.Write(t, "notice-kept-signature",
          Flagged(kNotice | kKeep, notice("paused", false, handle)));
  c.Write(t, "notice-unknown-handle",
          Flagged(kNotice, notice("refused", false, std::string(32, 'e'))));
  c.Write(t, "notice-bad-change",
          Flagged(kNotice | kOfferFirst, notice("deleted", false, handle)));
}

void Manifests(Corpus& c, const Ed25519Signer& trusted,
               const Ed25519Signer& other) {
  const std::string t = "manifest";
  auto third = FixedSigner(0x50);
  struct M {
    const char* id;
    const char* sector;
    int port;
    std::string key;
  };
  const std::vector<M> members = {
      {"safe-harbor", "VICTIM_SERVICES", 7451,
       VerifierKey("safe-harbor.haven/log", trusted)},
      {"legal-aid", "LEGAL_SERVICES", 7452,
       VerifierKey("legal-aid.haven/log", other)},
      {"metro-pd", "LAW_ENFORCEMENT", 7453,
       VerifierKey("metro-pd.haven/log", *third)}};
  auto manifest = [&](const std::string& status_of_last,
                      const std::string& last_fingerprint_of) {
    std::string out = "federation: \"test-task-force\"\nserial: 1\n";
    for (size_t i = 0; i < members.size(); ++i) {
      const M& m = members[i];
      const bool last = i + 1 == members.size();
      absl::StrAppend(
          &out, "members {\n  agency_id: \"", m.id, "\"\n  name: \"", m.id,
          "\"\n  sector: ", m.sector, "\n  endpoint: \"127.0.0.1:", m.port,
          "\"\n  cert_sha256: \"",
          server::crypto::Sha256Hex(
              absl::StrCat(last ? last_fingerprint_of : m.id, " cert")),
          "\"\n  verifier_key: \"", m.key,
          "\"\n  status: ", last ? status_of_last : "MEMBER_ACTIVE", "\n}\n");
    }
    return out;
  };
  const std::string valid = manifest("MEMBER_ACTIVE", "metro-pd");
  c.Write(t, "three-members", valid);
  c.Write(t, "suspended-member", manifest("MEMBER_SUSPENDED", "metro-pd"));
  c.Write(t, "same-certificate", manifest("MEMBER_ACTIVE", "legal-aid"));
  c.Write(t, "no-status", manifest("MEMBER_STATUS_UNSPECIFIED", "metro-pd"));
  std::string duplicate = valid;
  duplicate.replace(duplicate.find("metro-pd"), 8, "legal-aid");
  c.Write(t, "duplicate-id", duplicate);
  std::string bad_port = valid;
  bad_port.replace(bad_port.find("127.0.0.1:7453"), 14, "127.0.0.1:99999");
  c.Write(t, "bad-endpoint", bad_port);
  c.Write(t, "truncated", Truncated(valid));
  c.Write(t, "unknown-field", valid + "members { colour: \"red\" }\n");

  // The same manifest signed, as nodes load and relay it.
  const std::string s = "signed_manifest";
  auto parsed = client::ParseManifestText(valid, "seed");
  if (!parsed.ok()) std::abort();
  const std::string text = client::ManifestNoteText(*parsed);
  auto signature = [&](const Ed25519Signer& signer, const char* name) {
    return client::FormatSignatureLine(
        name, client::NoteKeyId(name, PublicKey(signer)),
        signer.SignToString(text));
  };
  const std::string by_a = signature(trusted, kOperatorKeyNames[0]);
  const std::string by_b = signature(other, kOperatorKeyNames[1]);
  c.Write(s, "signed-by-both", absl::StrCat(text, "\n", by_a, by_b));
  c.Write(s, "signed-by-one", absl::StrCat(text, "\n", by_b));
  c.Write(s, "signed-by-an-unknown-key",
          absl::StrCat(text, "\n", signature(*third, "operator-c")));
  // The text altered after signing: both signatures fail.
  std::string altered = absl::StrCat(text, "\n", by_a, by_b);
  altered.replace(altered.find("serial: 1"), 9, "serial: 3");
  c.Write(s, "altered-after-signing", altered);
  c.Write(s, "no-header", absl::StrCat(valid, "\n", by_a, by_b));
  c.Write(s, "unsigned", valid);
  c.Write(t, "empty", "");
}

void NodeConfigs(Corpus& c) {
  const std::string t = "node_config";
  const std::string base =
      "agency_id: \"safe-harbor\"\n"
      "listen_address: \"127.0.0.1:7441\"\n"
      "peer_listen_address: \"127.0.0.1:7451\"\n"
      "data_dir: \"data\"\n"
      "master_key_file: \"master.key\"\n"
      "tls {\n"
      "  cert_file: \"tls/node.crt\"\n"
      "  key_file: \"tls/node.key\"\n"
      "  ca_file: \"../ca.crt\"\n"
      "}\n"
      "manifest_file: \"../federation.textproto\"\n";
  const std::string principals = absl::StrCat(
      "principals {\n  name: \"caseworker-ana\"\n  role: CASEWORKER\n"
      "  token_sha256: \"",
      server::crypto::Sha256Hex("token-ana"),
      "\"\n}\n"
      "principals { name: \"auditor\" role: AUDITOR token_sha256: \"",
      server::crypto::Sha256Hex("token-auditor"), "\" }\n");
  c.Write(t, "demo-safe-harbor",
          base + principals +
              "policy_file: \"policy.json\"\n"
              "witness_interval_seconds: 5\n");
  c.Write(t, "minimal", base);
  c.Write(t, "absolute-paths",
          "agency_id: \"metro-pd\" listen_address: \"[::1]:0\" "
          "data_dir: \"/var/lib/haven/./data/../data\" "
          "master_key_file: \"/etc/haven/master.key\" "
          "tls { cert_file: \"/a\" key_file: \"/b\" ca_file: \"/c\" }\n");
  c.Write(t, "bad-agency-id",
          "agency_id: \"Safe Harbor\"\n" + base.substr(base.find('\n') + 1));
  std::string no_tls = base;
  no_tls.erase(no_tls.find("tls {"),
               no_tls.find("}\n") + 2 - no_tls.find("tls {"));
  c.Write(t, "missing-tls", no_tls);
  std::string bad_listen = base;
  bad_listen.replace(bad_listen.find("127.0.0.1:7441"), 14, "127.0.0.1");
  c.Write(t, "bad-listen-address", bad_listen);
  c.Write(
      t, "bad-token-hash",
      base + "principals { name: \"x\" role: ADMIN token_sha256: \"ab\" }\n");
  c.Write(t, "no-role",
          base + "principals { name: \"x\" token_sha256: \"" +
              std::string(64, 'a') + "\" }\n");
  c.Write(t, "unknown-field", base + "listen_adress: \"x:1\"\n");
  c.Write(t, "truncated", Truncated(base));
}

void Receipts(Corpus& c, const Ed25519Signer& trusted,
              const Ed25519Signer& other) {
  const std::string t = "consent_receipt";
  haven::v1::Consent consent;
  consent.set_consent_id("c0ffee00c0ffee00c0ffee00c0ffee00");
  consent.set_version(1);
  consent.set_subject_id("5ub1ec7");
  consent.mutable_grantee()->set_agency_id("legal-aid");
  consent.add_purposes(haven::v1::LEGAL_REPRESENTATION);
  consent.add_categories(haven::v1::CONTACT);
  consent.add_categories(haven::v1::IMMIGRATION);
  consent.mutable_valid()->set_from_unix(kNow - 60);
  consent.mutable_valid()->set_until_unix(kNow + 90 * 86400);
  consent.set_data_life_seconds(30 * 86400);
  consent.set_status(haven::v1::ACTIVE);
  consent.set_recorded_by("advocate-bea");
  consent.set_recorded_unix(kNow);
  consent.set_evidence_sha256(std::string(32, '\x11'));
  const std::string valid =
      server::consent::SignReceipt(consent, trusted, "safe-harbor")
          .SerializeAsString();
  c.Write(t, "receipt", valid);

  haven::v1::Consent sector = consent;
  sector.set_version(3);
  sector.mutable_grantee()->set_sector(haven::v1::SHELTER);
  sector.mutable_use_limit()->set_max_uses(5);
  sector.mutable_use_limit()->set_period_seconds(86400);
  sector.set_status(haven::v1::REVOKED);
  sector.set_status_reason("survivor asked");
  sector.set_use_count(2);
  sector.set_last_used_unix(kNow - 10);
  c.Write(t, "receipt-sector-revoked",
          server::consent::SignReceipt(sector, trusted, "safe-harbor")
              .SerializeAsString());

  auto receipt = server::consent::SignReceipt(consent, trusted, "safe-harbor");
  receipt.set_key_id("00000000");
  c.Write(t, "receipt-wrong-key-id", receipt.SerializeAsString());
  receipt = server::consent::SignReceipt(consent, trusted, "safe-harbor");
  receipt.mutable_consent()->set_version(2);
  c.Write(t, "receipt-altered-consent", receipt.SerializeAsString());
  receipt = server::consent::SignReceipt(consent, trusted, "safe-harbor");
  receipt.set_signature(receipt.signature().substr(0, 63));
  c.Write(t, "receipt-short-signature", receipt.SerializeAsString());
  c.Write(t, "receipt-other-key",
          server::consent::SignReceipt(consent, other, "legal-aid")
              .SerializeAsString());
  c.Write(t, "receipt-truncated", Truncated(valid));
}

// Offline proof bundles over a log of 7 audit entries whose checkpoint the
// trusted key signed (one cosigned by the other key), and damaged ones.
void ProofBundles(Corpus& c, const Ed25519Signer& trusted,
                  const Ed25519Signer& other) {
  const std::string t = "proof_bundle";
  std::vector<std::string> leaves;
  std::vector<std::string> hashes;
  for (int i = 0; i < 7; ++i) {
    haven::v1::AuditEntry entry;
    entry.set_kind(i % 2 ? haven::v1::DISCLOSURE : haven::v1::RECORD_WRITTEN);
    entry.set_time_unix_nanos(kNow * 1'000'000'000 + i);
    entry.set_agency_id("legal-aid");
    entry.set_request_id(absl::StrCat("request-", i));
    leaves.push_back(entry.SerializeAsString());
    hashes.push_back(client::HashLeaf(leaves.back()));
  }
  const std::string text = CheckpointText(kTrustedKeyName, 7, Root(hashes, 7));
  const std::string note =
      text + "\n" + SignatureLine(kTrustedKeyName, trusted, text);
  auto bundle = [&](uint64_t index, const std::string& checkpoint) {
    client::ProofBundle b;
    b.leaf_index = index;
    b.tree_size = 7;
    b.leaf = leaves[index];
    b.inclusion_proof = *client::InclusionProofFromLeafHashes(hashes, index, 7);
    b.checkpoint_note = checkpoint;
    return client::FormatProofBundle(b);
  };
  const std::string valid = bundle(3, note);
  c.Write(t, "bundle", valid);
  c.Write(t, "bundle-first", bundle(0, note));
  c.Write(t, "bundle-last", bundle(6, note));
  c.Write(t, "bundle-cosigned",
          bundle(2, note + SignatureLine(kOtherKeyName, other, text)));
  c.Write(t, "bundle-other-key",
          bundle(3, text + "\n" + SignatureLine(kOtherKeyName, other, text)));
  c.Write(t, "bundle-flipped", FlipByte(valid, valid.size() / 3));
  c.Write(t, "bundle-truncated", Truncated(valid));
}

}  // namespace
}  // namespace haven::fuzz

int main(int argc, char** argv) {
  namespace fuzz = haven::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir, e.g. tests/fuzz/corpus>\n",
                 argv[0]);
    return 2;
  }
  auto trusted = fuzz::FixedSigner(fuzz::kTrustedKeyFill);
  auto other = fuzz::FixedSigner(fuzz::kOtherKeyFill);
  // The holder target re-signs batches with legal-aid's key from the
  // in-process holder; seeds that keep their signature need the same key.
  auto holder = haven::testing::InProcessHolder::Create();
  if (!holder.ok()) {
    std::fprintf(stderr, "cannot build the in-process holder: %s\n",
                 holder.status().ToString().c_str());
    return 1;
  }
  fuzz::Corpus corpus(argv[1]);
  fuzz::SignedNotes(corpus, *trusted, *other);
  fuzz::MerkleProofs(corpus);
  fuzz::SignedBatches(corpus, *trusted, *other);
  fuzz::HolderBatches(corpus, (*holder)->peer_signer(), *other);
  fuzz::GranteeMessages(corpus, *trusted, *other);
  fuzz::Manifests(corpus, *trusted, *other);
  fuzz::NodeConfigs(corpus);
  fuzz::Receipts(corpus, *trusted, *other);
  fuzz::ProofBundles(corpus, *trusted, *other);
  std::printf("wrote %d seeds under %s\n", corpus.written(), argv[1]);
  return corpus.ok() ? 0 : 1;
}
