// Vault throughput next to raw RocksDB, measured in the same run.
//
// Writes and reads records of 1 KiB fields through RecordVault, and the same
// payloads straight into RocksDB (same Database options, same family, same
// key shapes, same sync setting), then prints the ratio of the two:
//
//   vault: put X/s raw Y/s ratio Z (target >= 0.7)
//
// It also times the authenticated decryption of one field on its own and
// prints the get ratio that a read costing nothing but one raw RocksDB read
// and that decryption would reach: the ceiling for any vault that
// authenticates what it returns.
//
// Vault and raw operations alternate in chunks of 50 within each phase, and
// the best of --rounds rounds is kept, so a noisy neighbour hurts both
// alike. Reads run after a flush, from SST files and the block cache.
// Usage:
//   vault_bench [--puts=N] [--gets=N] [--fields=N] [--field_bytes=N]
//               [--rounds=N] [--sync=0|1|both]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/records.pb.h"
#include "server/crypto/aead.h"
#include "server/crypto/key_derivation.h"
#include "server/crypto/secret_bytes.h"
#include "server/storage/rocksdb_storage.h"
#include "server/vault/record_vault.h"

namespace {

using haven::server::storage::Database;
using haven::server::storage::Family;
using haven::server::storage::RocksDbStorage;
using haven::server::vault::RecordVault;
using Clock = std::chrono::steady_clock;

struct Flags {
  int puts = 2000;
  int gets = 50000;
  int fields = 1;
  int field_bytes = 1024;
  int rounds = 3;
  std::string sync = "both";
};

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg(argv[i]);
    auto int_flag = [&](absl::string_view name, int& out) {
      std::string prefix = absl::StrCat("--", name, "=");
      if (arg.substr(0, prefix.size()) != prefix) return false;
      return absl::SimpleAtoi(arg.substr(prefix.size()), &out) && out > 0;
    };
    if (int_flag("puts", flags.puts) || int_flag("gets", flags.gets) ||
        int_flag("fields", flags.fields) ||
        int_flag("field_bytes", flags.field_bytes) ||
        int_flag("rounds", flags.rounds)) {
      continue;
    }
    if (arg.substr(0, 7) == "--sync=") {
      flags.sync = std::string(arg.substr(7));
      if (flags.sync == "0" || flags.sync == "1" || flags.sync == "both") {
        continue;
      }
    }
    std::fprintf(stderr, "unknown or bad flag: %s\n", argv[i]);
    return false;
  }
  return flags.fields <= 64 && flags.field_bytes <= 64 * 1024;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/haven-vault-bench-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<RocksDbStorage> OpenDb(const std::string& path) {
  Database::Options options;
  options.path = path;
  auto db = RocksDbStorage::Open(options);
  if (!db.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(),
                 std::string(db.status().message()).c_str());
    std::exit(1);
  }
  return std::move(db).value();
}

absl::Status FlushAll(Database& db) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (int i = 0; i < haven::server::storage::kFamilyCount; ++i) {
    all.push_back(db.family(static_cast<Family>(i)));
  }
  return haven::server::storage::FromRocksDb(db.db()->Flush(flush, all),
                                             "flush");
}

void Die(const absl::Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
  std::exit(1);
}

// Operations per second by wall clock, and per second of this thread's CPU
// time (steadier on a shared machine; for synced puts the wall clock is what
// matters).
struct Result {
  double put = 0;
  double get = 0;
  double put_cpu = 0;
  double get_cpu = 0;
};

// Accumulates wall and thread-CPU seconds over many short intervals.
struct Meter {
  double wall = 0;
  double cpu = 0;
};

class Interval {
 public:
  explicit Interval(Meter& meter)
      : meter_(meter), wall_(Clock::now()), cpu_(CpuSeconds()) {}
  ~Interval() {
    meter_.wall += std::chrono::duration<double>(Clock::now() - wall_).count();
    meter_.cpu += CpuSeconds() - cpu_;
  }

 private:
  static double CpuSeconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  Meter& meter_;
  Clock::time_point wall_;
  double cpu_;
};

// Operations per chunk; vault and raw chunks alternate so that a noisy
// neighbour (disk or CPU) hits both sides alike.
constexpr int kChunk = 50;

// One round: a vault and a raw database side by side, `puts` new records
// (subjects of at most 500 records), flush both so reads come from SST files
// and the block cache as on a running node, then `gets` random reads.
struct RoundResult {
  Meter vault_put, raw_put, vault_get, raw_get;
};

RoundResult Round(
    const Flags& flags, bool sync,
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  TempDir vault_dir, raw_dir;
  auto vault_storage = OpenDb(vault_dir.path());
  auto raw_storage = OpenDb(raw_dir.path());
  Database* raw_db = &raw_storage->database();
  RecordVault::Options options;
  options.storage = vault_storage.get();
  options.master_key = haven::server::crypto::SecretBytes::Random(32);
  auto vault_or = RecordVault::Create(std::move(options));
  if (!vault_or.ok()) Die(vault_or.status(), "create vault");
  RecordVault& vault = **vault_or;
  // The vault's writes committed as the node's are, minus the audit entry
  // (audit_bench measures that): one write, synced or not like the raw side.
  auto commit = [&](haven::server::storage::WriteBatch batch) {
    return vault_storage->Write(batch, sync);
  };

  auto* raw_family = raw_db->family(Family::kVault);
  std::string raw_value;
  for (const auto& f : fields) raw_value += f.value();
  rocksdb::WriteOptions wo;
  wo.sync = sync;

  RoundResult result;
  std::vector<std::pair<std::string, std::string>> vault_ids;
  std::vector<std::string> raw_keys;
  std::string vault_subject, raw_subject;
  for (int done = 0; done < flags.puts; done += kChunk) {
    const int n = std::min(kChunk, flags.puts - done);
    {
      Interval interval(result.vault_put);
      for (int i = done; i < done + n; ++i) {
        if (i % 500 == 0) {
          auto s = vault.CreateSubject(
              [&](haven::server::storage::WriteBatch b, const std::string&) {
                return commit(std::move(b));
              });
          if (!s.ok()) Die(s.status(), "create subject");
          vault_subject = *s;
        }
        auto put = vault.Put(vault_subject, "", fields,
                             [&](haven::server::storage::WriteBatch b,
                                 const RecordVault::PutResult&) {
                               return commit(std::move(b));
                             });
        if (!put.ok()) Die(put.status(), "vault put");
        vault_ids.emplace_back(vault_subject, put->record_id);
      }
    }
    {
      Interval interval(result.raw_put);
      for (int i = done; i < done + n; ++i) {
        if (i % 500 == 0) {
          raw_subject =
              absl::BytesToHexString(haven::server::crypto::RandomBytes(16));
        }
        std::string key = absl::StrCat(
            "r/", raw_subject, "/",
            absl::BytesToHexString(haven::server::crypto::RandomBytes(16)));
        rocksdb::Status s = raw_db->db()->Put(wo, raw_family, key, raw_value);
        if (!s.ok()) Die(absl::InternalError(s.ToString()), "raw put");
        raw_keys.push_back(std::move(key));
      }
    }
  }
  if (absl::Status s = FlushAll(vault_storage->database()); !s.ok()) {
    Die(s, "flush");
  }
  if (absl::Status s = FlushAll(*raw_db); !s.ok()) Die(s, "flush");

  std::mt19937 vault_rng(42), raw_rng(42);
  std::uniform_int_distribution<size_t> pick(0, vault_ids.size() - 1);
  size_t vault_bytes = 0, raw_bytes = 0;
  std::string out;
  for (int done = 0; done < flags.gets; done += kChunk) {
    const int n = std::min(kChunk, flags.gets - done);
    {
      Interval interval(result.vault_get);
      for (int i = 0; i < n; ++i) {
        const auto& [s, r] = vault_ids[pick(vault_rng)];
        auto got = vault.Get(s, r);
        if (!got.ok()) Die(got.status(), "vault get");
        for (const auto& f : got->fields()) vault_bytes += f.value().size();
      }
    }
    {
      Interval interval(result.raw_get);
      for (int i = 0; i < n; ++i) {
        rocksdb::Status s =
            raw_db->db()->Get({}, raw_family, raw_keys[pick(raw_rng)], &out);
        if (!s.ok()) Die(absl::InternalError(s.ToString()), "raw get");
        raw_bytes += out.size();
      }
    }
  }
  if (vault_bytes != raw_bytes) {
    std::fprintf(stderr, "vault read %zu bytes, raw %zu\n", vault_bytes,
                 raw_bytes);
    std::exit(1);
  }
  return result;
}

// Opens of one sealed field of `bytes` bytes per second: the authenticated
// decryption every vault read must do at least once per field, measured
// here so the get ratio can be read against what is reachable at all.
double AeadOpensPerSecond(int bytes, int opens) {
  haven::server::crypto::SecretBytes key =
      haven::server::crypto::SecretBytes::Random(
          haven::server::crypto::kAeadKeySize);
  absl::StatusOr<std::string> sealed = haven::server::crypto::AeadSeal(
      key, std::string(bytes, 'x'), "associated data");
  if (!sealed.ok()) Die(sealed.status(), "seal");
  auto start = Clock::now();
  size_t checksum = 0;
  for (int i = 0; i < opens; ++i) {
    absl::StatusOr<std::string> plain =
        haven::server::crypto::AeadOpen(key, *sealed, "associated data");
    if (!plain.ok()) Die(plain.status(), "open");
    checksum += plain->size();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (checksum != static_cast<size_t>(bytes) * opens) std::abort();
  return opens / seconds;
}

void RunMode(const Flags& flags, bool sync) {
  google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
  std::mt19937 rng(7);
  for (int i = 0; i < flags.fields; ++i) {
    haven::v1::Field* f = fields.Add();
    f->set_name(absl::StrCat("field_", i));
    f->set_category(haven::v1::CASE_NOTES);
    std::string value(flags.field_bytes, '\0');
    for (char& c : value) c = static_cast<char>('a' + rng() % 26);
    f->set_value(value);
  }
  // Best round of each side, by wall clock and by CPU.
  Result vault, raw;
  double aead_opens = 0;
  auto best = [](double& acc, int ops, double seconds) {
    acc = std::max(acc, ops / seconds);
  };
  for (int round = 0; round < flags.rounds; ++round) {
    aead_opens =
        std::max(aead_opens, AeadOpensPerSecond(flags.field_bytes, flags.gets));
    RoundResult r = Round(flags, sync, fields);
    best(vault.put, flags.puts, r.vault_put.wall);
    best(vault.put_cpu, flags.puts, r.vault_put.cpu);
    best(vault.get, flags.gets, r.vault_get.wall);
    best(vault.get_cpu, flags.gets, r.vault_get.cpu);
    best(raw.put, flags.puts, r.raw_put.wall);
    best(raw.put_cpu, flags.puts, r.raw_put.cpu);
    best(raw.get, flags.gets, r.raw_get.wall);
    best(raw.get_cpu, flags.gets, r.raw_get.cpu);
  }
  std::printf(
      "sync=%d  %d field(s) x %d B per record, %d puts, %d gets, best of %d\n",
      sync ? 1 : 0, flags.fields, flags.field_bytes, flags.puts, flags.gets,
      flags.rounds);
  std::printf("vault: put %.0f/s raw %.0f/s ratio %.2f (target >= 0.7)\n",
              vault.put, raw.put, vault.put / raw.put);
  std::printf("vault: get %.0f/s raw %.0f/s ratio %.2f (target >= 0.7)\n",
              vault.get, raw.get, vault.get / raw.get);
  std::printf(
      "  per cpu-second: put %.0f vs %.0f (%.2f), get %.0f vs %.0f "
      "(%.2f)\n",
      vault.put_cpu, raw.put_cpu, vault.put_cpu / raw.put_cpu, vault.get_cpu,
      raw.get_cpu, vault.get_cpu / raw.get_cpu);
  // A get that costs one raw read plus one open per field, and nothing
  // else, would run at 1 / (1/raw + fields/opens).
  const double bound =
      1.0 / (1.0 / raw.get + flags.fields / aead_opens) / raw.get;
  std::printf(
      "  bound: XChaCha20-Poly1305 open of one %d B field alone %.0f/s, so "
      "one raw read plus the opens gives at most get ratio %.2f\n",
      flags.field_bytes, aead_opens, bound);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  if (flags.sync == "1" || flags.sync == "both") RunMode(flags, true);
  if (flags.sync == "0" || flags.sync == "both") RunMode(flags, false);
  return 0;
}
