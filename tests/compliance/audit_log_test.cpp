// Audit log: appends chain correctly across reopen, and every kind of tampering (edit, reorder,
// insert, delete, rewrite-and-rehash, truncation with an anchor) is caught at the right line.

#include <fstream>
#include <functional>
#include <thread>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "compliance/audit_log.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

SecretKey key_from(std::uint8_t fill) { return SecretKey::from_bytes(std::vector<std::uint8_t>(32, fill)); }

AuditEvent event(int i) {
  AuditEvent e;
  e.key_id = "tenant-" + std::to_string(i % 3);
  e.produce_id = "pid-" + std::to_string(i);
  e.prompt_tokens = 10 + i;
  e.completion_tokens = 200 - i;
  e.content_sha256 = sha256("completion " + std::to_string(i));
  e.prompt_text = "secret prompt " + std::to_string(i);
  e.completion_text = "completion " + std::to_string(i);
  return e;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

std::string make_log(const test::TempDir& dir, int n, std::optional<SecretKey> key) {
  std::string path = (dir / "audit.jsonl").string();
  AuditLog log(path, AuditOptions{key, false});
  for (int i = 0; i < n; ++i) log.append(event(i));
  return path;
}

TEST(AuditLog, AppendsAChainThatVerifiesAcrossReopen) {
  test::TempDir dir;
  std::string path = (dir / "a.jsonl").string();
  auto key = key_from(1);
  {
    AuditLog log(path, AuditOptions{key, false});
    for (int i = 0; i < 5; ++i) log.append(event(i));
  }
  AuditHead head;
  {
    AuditLog log(path, AuditOptions{key, false});  // picks up seq and prev from the file's tail
    for (int i = 5; i < 8; ++i) head = log.append(event(i));
  }
  EXPECT_EQ(head.n_records, 8u);
  auto r = verify_audit_log(path, key);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.n_records, 8u);
  EXPECT_TRUE(r.macs_checked);
  EXPECT_EQ(r.head.last_hash, head.last_hash);
  EXPECT_TRUE(verify_audit_log(path, std::nullopt).ok);  // the plain chain checks without a key
  // The wrong key fails at the first record.
  auto wrong = verify_audit_log(path, key_from(2));
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.first_bad_line, 1u);
}

TEST(AuditLog, NeverWritesTextUnlessAskedTo) {
  test::TempDir dir;
  std::string path = make_log(dir, 3, std::nullopt);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().find("secret prompt"), std::string::npos);
  EXPECT_EQ(ss.str().find("completion 1"), std::string::npos);
  auto rec = nlohmann::json::parse(read_lines(path)[1]);
  EXPECT_EQ(rec["content_sha256"], to_hex(sha256("completion 1")));
  EXPECT_EQ(rec["prompt_tokens"], 11);
  EXPECT_EQ(rec["completion_tokens"], 199);
  EXPECT_EQ(rec["key_id"], "tenant-1");

  std::string with_text = (dir / "t.jsonl").string();
  {
    AuditLog log(with_text, AuditOptions{std::nullopt, true});
    log.append(event(1));
  }
  auto rt = nlohmann::json::parse(read_lines(with_text)[0]);
  EXPECT_EQ(rt["prompt"], "secret prompt 1");
  EXPECT_TRUE(verify_audit_log(with_text, std::nullopt).ok);
}

// What an attacker who knows the format (but not the key) can do: recompute hash and prev.
void rehash_from(std::vector<std::string>& lines, std::size_t first) {
  std::string prev = first == 0 ? std::string(64, '0') : nlohmann::json::parse(lines[first - 1])["hash"].get<std::string>();
  for (std::size_t i = first; i < lines.size(); ++i) {
    auto rec = nlohmann::json::parse(lines[i]);
    rec.erase("hash");
    rec.erase("mac");
    rec["prev"] = prev;
    Sha256 h;
    h.update("autarky-audit-v1\n");
    h.update(rec.dump(-1, ' ', true));
    rec["hash"] = prev = to_hex(h.finish());
    lines[i] = rec.dump(-1, ' ', true);
  }
}

std::string set_field(const std::string& line, const char* field, nlohmann::json value) {
  auto rec = nlohmann::json::parse(line);
  rec[field] = std::move(value);
  return rec.dump(-1, ' ', true);
}

struct Tamper {
  const char* what;
  std::function<void(std::vector<std::string>&)> edit;
  std::uint64_t expected_bad_line;
};

TEST(AuditLog, EveryTamperingIsCaughtAtTheFirstBadLine) {
  const std::vector<Tamper> cases = {
      {"edit a token count", [](auto& l) { l[3] = set_field(l[3], "completion_tokens", 1); }, 4},
      {"edit a content hash", [](auto& l) { l[0] = set_field(l[0], "content_sha256", std::string(64, 'f')); }, 1},
      {"edit the stored hash", [](auto& l) { l[5] = set_field(l[5], "hash", std::string(64, 'a')); }, 6},
      {"swap two records", [](auto& l) { std::swap(l[1], l[2]); }, 2},
      {"delete a middle record", [](auto& l) { l.erase(l.begin() + 2); }, 3},
      {"delete the first record", [](auto& l) { l.erase(l.begin()); }, 1},
      {"duplicate a record", [](auto& l) { l.insert(l.begin() + 2, l[1]); }, 3},
      {"insert a forged record with valid seq and prev",
       [](auto& l) {
         auto forged = set_field(l[2], "key_id", "forger");
         l.insert(l.begin() + 3, forged);
         rehash_from(l, 3);  // renumbering is not even attempted: the next seq breaks
       },
       4},
      {"garbage line", [](auto& l) { l[4] = "not json"; }, 5},
  };
  auto key = key_from(7);
  for (const auto& c : cases) {
    test::TempDir dir;
    std::string path = make_log(dir, 6, key);
    auto lines = read_lines(path);
    c.edit(lines);
    write_lines(path, lines);
    for (const auto& k : {std::optional<SecretKey>(key), std::optional<SecretKey>()}) {
      auto r = verify_audit_log(path, k);
      EXPECT_FALSE(r.ok) << c.what;
      EXPECT_EQ(r.first_bad_line, c.expected_bad_line) << c.what << ": " << r.reason;
      EXPECT_EQ(r.n_records, c.expected_bad_line - 1) << c.what;
    }
  }
}

TEST(AuditLog, RewrittenChainPassesPlainCheckButNotTheKeyedOne) {
  test::TempDir dir;
  auto key = key_from(7);
  std::string path = make_log(dir, 6, key);
  auto lines = read_lines(path);
  lines[2] = set_field(lines[2], "completion_tokens", 5);
  rehash_from(lines, 2);
  write_lines(path, lines);
  EXPECT_TRUE(verify_audit_log(path, std::nullopt).ok);  // why the keyed chain exists
  auto r = verify_audit_log(path, key);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
  EXPECT_NE(r.reason.find("mac"), std::string::npos) << r.reason;
  // Stripping the macs does not help either, once the verifier has the key.
  for (auto& l : lines) {
    auto rec = nlohmann::json::parse(l);
    rec.erase("mac");
    l = rec.dump(-1, ' ', true);
  }
  write_lines(path, lines);
  EXPECT_EQ(verify_audit_log(path, key).first_bad_line, 1u);
}

TEST(AuditLog, TailTruncationNeedsAnAnchor) {
  test::TempDir dir;
  std::string path = make_log(dir, 6, std::nullopt);
  auto full = verify_audit_log(path, std::nullopt);
  ASSERT_TRUE(full.ok);
  AuditAnchor anchor = AuditAnchor::parse("5:" + full.head.last_hash);
  EXPECT_TRUE(verify_audit_log(path, std::nullopt, anchor).ok);

  auto lines = read_lines(path);
  lines.resize(4);
  write_lines(path, lines);
  EXPECT_TRUE(verify_audit_log(path, std::nullopt).ok);  // a shorter chain is still a chain
  auto r = verify_audit_log(path, std::nullopt, anchor);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("removed from the tail"), std::string::npos) << r.reason;

  EXPECT_THROW(AuditAnchor::parse("5"), Error);
  EXPECT_THROW(AuditAnchor::parse("x:" + std::string(64, '0')), Error);
}

TEST(AuditLog, TornLastLineIsReportedAndBlocksAppends) {
  test::TempDir dir;
  std::string path = make_log(dir, 3, std::nullopt);
  {
    std::ofstream out(path, std::ios::app);
    out << "{\"seq\":3,\"ti";
  }
  auto r = verify_audit_log(path, std::nullopt);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 4u);
  EXPECT_EQ(r.n_records, 3u);
  EXPECT_THROW(AuditLog(path, AuditOptions{}), Error);
}

TEST(AuditLog, ConcurrentAppendersKeepOneChain) {
  test::TempDir dir;
  std::string path = (dir / "c.jsonl").string();
  auto key = key_from(3);
  // Two writers on the same file (as two server processes would be): flock + tail re-read.
  AuditLog a(path, AuditOptions{key, false});
  AuditLog b(path, AuditOptions{key, false});
  std::thread ta([&] {
    for (int i = 0; i < 20; ++i) a.append(event(i));
  });
  std::thread tb([&] {
    for (int i = 0; i < 20; ++i) b.append(event(100 + i));
  });
  ta.join();
  tb.join();
  auto r = verify_audit_log(path, key);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.n_records, 40u);
}

}  // namespace
}  // namespace autarky::compliance
