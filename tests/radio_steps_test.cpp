// The radioactivity steps as library calls (verify/radio): the filter built from teacher text, the reference model's
// predictions in chunks of its context, and the provenance file with its SHA-256.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "radio/context_filter.hpp"
#include "radio/filter_build.hpp"
#include "radio/predictions.hpp"
#include "radio/provenance.hpp"
#include "radio/reference_predictions.hpp"
#include "reference_model.hpp"
#include "score/document_ids.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;
namespace radio = telltale::radio;

telltale::input::Tokenizer tokenizer() { return std::move(*telltale::test::reference_tokenizer()); }

// `count` ids 1, 2, ..., wrapping below the 512-id vocabulary, on one line.
std::string id_line(int count) {
  std::string line;
  for (int i = 0; i < count; ++i) line += std::to_string(1 + i % 500) + (i + 1 < count ? " " : "\n");
  return line;
}

}  // namespace

TEST_CASE("the filter's window is the context width, one less with self-hash", "[radio][filter]") {
  telltale::SchemeParams p;
  p.context_width = 4;
  CHECK(window_size(p) == 4);
  p.self_hash = true;
  CHECK(window_size(p) == 3);
}

TEST_CASE("a filter built from teacher text holds every window of every document and is sized by counting them",
          "[radio][filter]") {
  ScratchDir dir("radio-steps-filter");
  const auto tok = tokenizer();
  radio::FilterRecipe recipe;
  recipe.text.inputs = {dir.file("t.ids", "1 2 3 4 5 6\n7 8 9\n")};
  recipe.params.context_width = 4;
  auto built = radio::write_context_filter(recipe, tok, dir.path("t.ttcf"));
  REQUIRE(built.is_ok());
  CHECK(built->window_size == 4);
  CHECK(built->windows_inserted == 3);  // 1234, 2345, 3456; the 3-id document has no full window
  CHECK(built->distinct_estimate == 3);
  auto filter = radio::ContextFilter::read(dir.path("t.ttcf"));
  REQUIRE(filter.is_ok());
  CHECK(filter->window_size() == 4);
  CHECK(filter->contains(std::vector<int32_t>{1, 2, 3, 4}));
  CHECK(filter->contains(std::vector<int32_t>{3, 4, 5, 6}));
  CHECK(filter->bits() == built->bits);

  SECTION("an existing output is never overwritten") {
    auto again = radio::write_context_filter(recipe, tok, dir.path("t.ttcf"));
    REQUIRE_FALSE(again.is_ok());
    CHECK(again.status().message() == dir.path("t.ttcf") + ": already exists (refusing to overwrite)");
  }
  SECTION("stdin cannot be counted first: --expected is required") {
    recipe.text.inputs = {"-"};
    auto piped = radio::write_context_filter(recipe, tok, dir.path("s.ttcf"));
    REQUIRE_FALSE(piped.is_ok());
    CHECK(piped.status().message().find("give --expected") != std::string::npos);
  }
  SECTION("self-hash with h = 1 has no window to filter on") {
    recipe.params.context_width = 1;
    recipe.params.self_hash = true;
    auto none = radio::write_context_filter(recipe, tok, dir.path("h1.ttcf"));
    REQUIRE_FALSE(none.is_ok());
    CHECK(none.status().message().find("no context window") != std::string::npos);
  }
}

TEST_CASE("the reference model's predictions come in chunks of its context, named by document and offset",
          "[radio][predictions]") {
  ScratchDir dir("radio-steps-predict");
  const auto tok = tokenizer();
  const std::string model_path = std::string(telltale::test::kModelDir) + "/stories260K.bin";
  auto model = telltale::refmodel::Llama2cModel::load(model_path);
  REQUIRE(model.is_ok());
  const size_t chunk = radio::prediction_chunk_ids(*model);
  REQUIRE(chunk == static_cast<size_t>(model->seq_len() - 1));
  const int long_doc = static_cast<int>(chunk) + 10;
  radio::TeacherText text;
  text.inputs = {dir.file("t.ids", id_line(long_doc) + id_line(5))};
  auto records = radio::write_reference_predictions(text, *model, model_path, tok, 2, dir.path("p.jsonl"));
  REQUIRE(records.is_ok());
  CHECK(*records == 3);

  auto reader = radio::PredictionReader::open(dir.path("p.jsonl"));
  REQUIRE(reader.is_ok());
  CHECK(reader->header().suspect == "reference runner: stories260K.bin");
  CHECK(reader->header().tokenizer_sha256 == tok.sha256_hex());
  radio::PredictionRecord r;
  std::vector<std::string> names;
  std::vector<size_t> sizes;
  while (true) {
    auto more = reader->next(r);
    REQUIRE(more.is_ok());
    if (!*more) break;
    names.push_back(r.doc);
    sizes.push_back(r.ids.size());
    CHECK(r.positions.size() == r.ids.size());
    CHECK(r.predicted.front().size() == 2);
  }
  const std::string src = dir.path("t.ids");
  CHECK(names == std::vector<std::string>{src + ":1", src + ":1@" + std::to_string(chunk), src + ":2"});
  CHECK(sizes == std::vector<size_t>{chunk, 10, 5});

  auto again = radio::write_reference_predictions(text, *model, model_path, tok, 2, dir.path("p.jsonl"));
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().message().find("exists") != std::string::npos);
}

TEST_CASE("a provenance line states the tuple's members in a fixed order, the context as 16 hex digits",
          "[radio][provenance]") {
  radio::ScoredTuple t;
  t.record = 3;
  t.position = 7;
  t.rank = 1;
  t.token = 42;
  t.context = 0xabc;
  t.score = 0.5;
  CHECK(radio::provenance_line(t, "a.jsonl:2") ==
        R"({"context":"0000000000000abc","doc":"a.jsonl:2","position":7,"rank":1,"record":3,"score":0.5,"token":42})");
  // A byte that is not UTF-8 becomes U+FFFD, written as UTF-8.
  CHECK(radio::provenance_line(t, "bad\xff").find("\"doc\":\"bad\xef\xbf\xbd\"") != std::string::npos);
}

TEST_CASE("the provenance SHA-256 is that of the bytes written, and the same when only hashing",
          "[radio][provenance]") {
  ScratchDir dir("radio-steps-provenance");
  std::vector<radio::ScoredTuple> tuples(3);
  for (size_t i = 0; i < tuples.size(); ++i) {
    tuples[i].record = i;
    tuples[i].position = static_cast<uint32_t>(4 + i);
    tuples[i].token = static_cast<int32_t>(100 + i);
    tuples[i].context = 0x1234567890abcdefULL * (i + 1);
    tuples[i].score = static_cast<double>(i % 2);
  }
  auto feed = [&tuples](radio::ProvenanceWriter& w) {
    const auto cb = w.callback();
    for (const auto& t : tuples) cb(t, "doc" + std::to_string(t.record));
    return w.finish();
  };
  auto to_file = radio::ProvenanceWriter::create(dir.path("prov.jsonl"));
  REQUIRE(to_file.is_ok());
  auto written = feed(*to_file);
  REQUIRE(written.is_ok());
  CHECK(to_file->lines() == 3);
  REQUIRE(to_file->commit().is_ok());  // the file is at its path only once committed
  auto file_hash = telltale::input::sha256_file_hex(dir.path("prov.jsonl"));
  REQUIRE(file_hash.is_ok());
  CHECK(*written == *file_hash);

  auto hash_only = radio::ProvenanceWriter::create("");
  REQUIRE(hash_only.is_ok());
  auto hashed = feed(*hash_only);
  REQUIRE(hashed.is_ok());
  CHECK(*hashed == *written);

  auto existing = radio::ProvenanceWriter::create(dir.path("prov.jsonl"));
  REQUIRE_FALSE(existing.is_ok());
  CHECK(existing.status().message() == dir.path("prov.jsonl") + ": already exists (refusing to overwrite)");
}

TEST_CASE("a document's ids are its own when pre-tokenized; a text without a tokenizer is refused by name",
          "[score][input]") {
  telltale::input::Document d;
  d.source = "x.jsonl";
  d.line = 3;
  d.text = "Once upon a time";
  std::vector<int32_t> ids;
  const telltale::Status refused = telltale::score::document_ids(d, nullptr, ids);
  CHECK(refused.message() == "x.jsonl:3: a text document needs a tokenizer");
  const auto tok = tokenizer();
  REQUIRE(telltale::score::document_ids(d, &tok, ids).is_ok());
  std::vector<int32_t> expected;
  REQUIRE(tok.encode(d.text, expected).is_ok());
  CHECK(ids == expected);
  d.pretokenized = true;
  d.ids = {5, 6, 7};
  REQUIRE(telltale::score::document_ids(d, nullptr, ids).is_ok());
  CHECK(ids == std::vector<int32_t>{5, 6, 7});
}
