// Explicit and implicit (GB 45438) labels: placement, integrity code, streaming = one-shot,
// tamper detection, sidecar files.

#include <set>

#include "base/error.h"
#include "compliance/content_label.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

SecretKey fixed_key(std::uint8_t fill) {
  std::vector<std::uint8_t> b(SecretKey::kBytes, fill);
  return SecretKey::from_bytes(b);
}

TEST(ContentLabel, ExplicitLabelPlacementAndLanguage) {
  LabelPolicy p;
  EXPECT_EQ(apply_explicit_label("Once upon a time.", p), "AI-generated\nOnce upon a time.");
  p.position = LabelPosition::kEnd;
  p.language = "zh";
  EXPECT_EQ(apply_explicit_label("从前。", p), "从前。\n人工智能生成");
  p.explicit_text = "[AI]";
  p.separator = " ";
  EXPECT_EQ(apply_explicit_label("x", p), "x [AI]");
  p.explicit_label = false;
  EXPECT_EQ(apply_explicit_label("x", p), "x");
}

TEST(ContentLabel, PolicyFromJsonValidates) {
  auto p = LabelPolicy::from_json(
      {{"position", "end"}, {"language", "zh"}, {"producer", "ACME"}, {"implicit", false}}, "cfg");
  EXPECT_EQ(p.position, LabelPosition::kEnd);
  EXPECT_EQ(p.notice(), "人工智能生成");
  EXPECT_EQ(p.content_producer, "ACME");
  EXPECT_FALSE(p.implicit_label);
  EXPECT_THROW(LabelPolicy::from_json({{"position", "middle"}}, "cfg"), Error);
  EXPECT_THROW(LabelPolicy::from_json({{"explict", true}}, "cfg"), Error);  // typo must not pass silently
  EXPECT_THROW(LabelPolicy::from_json({{"explicit", "yes"}}, "cfg"), Error);
}

TEST(ContentLabel, ImplicitLabelHasTheSevenFieldsAndVerifies) {
  LabelPolicy p;
  p.content_producer = "ACME-001";
  auto key = fixed_key(7);
  std::string content = apply_explicit_label("The cat sat.", p);
  std::string id = new_produce_id();
  auto label = make_label(content, p, key, id);
  for (const char* f : {"Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID",
                        "ReservedCode2"}) {
    ASSERT_TRUE(label.contains(f)) << f;
    EXPECT_TRUE(label[f].is_string()) << f;
  }
  EXPECT_EQ(label.size(), 7u);
  EXPECT_EQ(label["Label"], "1");
  EXPECT_EQ(label["ContentProducer"], "ACME-001");
  EXPECT_EQ(label["ProduceID"], id);
  EXPECT_TRUE(verify_label(content, label, key));
}

TEST(ContentLabel, AnyChangeBreaksTheIntegrityCode) {
  LabelPolicy p;
  auto key = fixed_key(7);
  std::string content = "Lily went to the park.";
  auto label = make_label(content, p, key, new_produce_id());
  ASSERT_TRUE(verify_label(content, label, key));

  EXPECT_FALSE(verify_label("Lily went to the park!", label, key));       // content
  EXPECT_FALSE(verify_label(content, label, fixed_key(8)));               // key
  for (const char* field : {"Label", "ContentProducer", "ProduceID", "ReservedCode1"}) {
    auto edited = label;
    edited[field] = edited[field].get<std::string>() + "0";
    EXPECT_FALSE(verify_label(content, edited, key)) << field;
  }
  auto missing = label;
  missing.erase("ReservedCode2");
  EXPECT_FALSE(verify_label(content, missing, key));
  auto garbage = label;
  garbage["ReservedCode1"] = "autarky1:" + key.key_id() + ":***";
  EXPECT_FALSE(verify_label(content, garbage, key));
  // Propagator fields are the distributor's to fill; they are outside the producer's code.
  auto propagated = label;
  propagated["ContentPropagator"] = "some platform";
  propagated["PropagateID"] = "p-42";
  EXPECT_TRUE(verify_label(content, propagated, key));
}

TEST(ContentLabel, ProduceIdsAreUniqueUuidV7) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_produce_id();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '7');  // version nibble
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(ContentLabel, StreamingMatchesOneShotForBothPositions) {
  auto key = fixed_key(3);
  const std::vector<std::string> chunks = {"Once", " upon", " a time", ", 人工", "智能", "."};
  std::string body;
  for (const auto& c : chunks) body += c;
  for (LabelPosition pos : {LabelPosition::kStart, LabelPosition::kEnd}) {
    LabelPolicy p;
    p.position = pos;
    LabelStream stream(p, key, "fixed-id");
    std::string emitted = stream.begin();
    for (const auto& c : chunks) {
      stream.feed(c);
      emitted += c;
    }
    emitted += stream.finish();
    EXPECT_EQ(emitted, apply_explicit_label(body, p));
    EXPECT_EQ(stream.label(), make_label(emitted, p, key, "fixed-id"));
    EXPECT_TRUE(verify_label(emitted, stream.label(), key));
    EXPECT_EQ(stream.content_sha256(), sha256(emitted));
  }
  LabelPolicy off;
  off.explicit_label = false;
  off.implicit_label = false;
  LabelStream quiet(off, key);
  EXPECT_EQ(quiet.begin(), "");
  quiet.feed("text");
  EXPECT_EQ(quiet.finish(), "");
  EXPECT_TRUE(quiet.label().is_null());
}

TEST(ContentLabel, SidecarRoundTrip) {
  test::TempDir dir;
  auto key = fixed_key(9);
  LabelPolicy p;
  p.content_producer = "生成服务";
  std::string out = (dir / "story.txt").string();
  std::string content = apply_explicit_label("text", p);
  auto label = make_label(content, p, key, new_produce_id());
  write_aigc_sidecar(out, label);
  EXPECT_TRUE(std::filesystem::exists(dir / "story.txt.aigc.json"));
  auto back = read_aigc_sidecar(out);
  EXPECT_EQ(back, label);
  EXPECT_TRUE(verify_label(content, back, key));
  test::write_bytes(dir / "bad.txt.aigc.json", {'{', '}'});
  EXPECT_THROW(read_aigc_sidecar((dir / "bad.txt").string()), Error);
}

}  // namespace
}  // namespace autarky::compliance
