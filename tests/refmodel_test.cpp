// Tests of the llama2.c reference runner (runner/): it reproduces run.c's published stories260K
// outputs exactly, and it refuses malformed model files with a message instead of crashing.
#include <sentencepiece_processor.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "llama2c_model.hpp"
#include "llama2c_sampler.hpp"
#include "test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using telltale::StatusCode;
using telltale::refmodel::Llama2cModel;
using telltale::refmodel::Llama2cSampler;

constexpr int kBos = 1;  // llama2.c's BOS; run.c also stops when the model emits it
constexpr int kSteps = 256;

std::string model_path() { return std::string(telltale::test::kModelDir) + "/stories260K.bin"; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

Llama2cModel load_stories260k() {
  auto loaded = Llama2cModel::load(model_path());
  INFO("loading " << model_path() << ": " << loaded.status().message());
  REQUIRE(loaded.is_ok());
  return std::move(loaded).value();
}

// llama2.c's tokenizer file (tok512.bin), read as run.c's build_tokenizer() reads it: run.c printed
// these pieces, so they are what its text output is made of. (They are tok512.model's pieces with
// U+2581 turned into a space, except BOS/EOS, which llama2.c exports as "\n<s>\n" and "\n</s>\n".)
std::vector<std::string> read_llama2c_vocab(int vocab_size) {
  const std::string bytes = read_file(fs::path(telltale::test::kModelDir) / "tok512.bin");
  std::size_t at = 4;  // max_token_length
  std::vector<std::string> vocab;
  for (int i = 0; i < vocab_size; i++) {
    REQUIRE(at + 8 <= bytes.size());
    std::int32_t len = 0;
    std::memcpy(&len, bytes.data() + at + 4, 4);  // after the float score
    at += 8;
    REQUIRE(len >= 0);
    REQUIRE(at + static_cast<std::size_t>(len) <= bytes.size());
    vocab.emplace_back(bytes.substr(at, static_cast<std::size_t>(len)));
    at += static_cast<std::size_t>(len);
  }
  return vocab;
}

// run.c's decode() + safe_printf() for one generated token: drop the leading space of the piece
// right after BOS, print <0xHH> pieces as that raw byte, and skip a lone unprintable byte.
std::string run_c_piece(const std::vector<std::string>& vocab, int prev_token, int token) {
  std::string piece = vocab.at(static_cast<std::size_t>(token));
  if (prev_token == kBos && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  unsigned int byte_val = 0;
  char tail = 0;
  if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X%c", &byte_val, &tail) == 2 && tail == '>') {
    piece = std::string(1, static_cast<char>(byte_val));
  }
  if (piece.size() == 1) {
    const auto c = static_cast<unsigned char>(piece[0]);
    if (!(std::isprint(c) || std::isspace(c))) return {};
  }
  return piece;
}

// What run.c's generate() emits for an empty prompt: it feeds BOS at pos 0, then for pos < steps
// takes one token per forward() (so `steps` forwards give up to `steps` tokens), and stops early
// when the model emits BOS, which it does not print.
template <typename Pick>
std::vector<int> generate_like_run_c(Llama2cModel& model, int steps, Pick pick) {
  std::vector<int> out;
  int token = kBos;
  for (int pos = 0; pos < steps; pos++) {
    const auto logits = model.forward(token, pos);
    REQUIRE(logits.size() == static_cast<std::size_t>(model.vocab_size()));
    const int next = pick(logits);
    REQUIRE(next >= 0);
    REQUIRE(next < model.vocab_size());
    if (next == kBos) break;
    out.push_back(next);
    token = next;
  }
  return out;
}

std::string render_like_run_c(const std::vector<std::string>& vocab, const std::vector<int>& ids) {
  std::string text;
  int prev = kBos;
  for (const int id : ids) {
    text += run_c_piece(vocab, prev, id);
    prev = id;
  }
  return text + "\n";  // generate() ends with printf("\n")
}

std::vector<int> parse_ids(const std::string& text) {
  std::istringstream in(text);
  std::vector<int> ids;
  int id = 0;
  while (in >> id) ids.push_back(id);
  REQUIRE(in.eof());  // every field was an integer
  return ids;
}

// SentencePieceProcessor can be neither copied nor moved, hence the pointer.
std::unique_ptr<sentencepiece::SentencePieceProcessor> load_tok512() {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->Load(std::string(telltale::test::kModelDir) + "/tok512.model");
  INFO(status.ToString());
  REQUIRE(status.ok());
  return sp;
}

// A scratch folder for malformed model files, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "telltale-refmodel-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void put_i32(std::string& bytes, std::size_t at, std::int32_t v) {
  const auto u = std::bit_cast<std::uint32_t>(v);
  for (int i = 0; i < 4; i++) bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xffu);
}

// Header fields, by index, as llama2.c writes them.
enum HeaderField : std::size_t { kDim, kHiddenDim, kLayers, kHeads, kKvHeads, kVocab, kSeqLen };

std::string with_field(std::string bytes, HeaderField field, std::int32_t v) {
  put_i32(bytes, 4 * static_cast<std::size_t>(field), v);
  return bytes;
}

// Loads `bytes` from a file and checks it is refused with `code` and a one-line message.
void expect_refused(const TempDir& dir, const std::string& name, const std::string& bytes, StatusCode code) {
  const fs::path path = dir.path() / name;
  write_file(path, bytes);
  const auto loaded = Llama2cModel::load(path.string());
  INFO(name << ": expected a refusal with code " << static_cast<int>(code) << ", got code "
            << static_cast<int>(loaded.status().code()) << " '" << loaded.status().message() << "'");
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == code);
  CHECK_FALSE(loaded.status().message().empty());
  CHECK(loaded.status().message().find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("the runner loads stories260K with the header's shape", "[refmodel]") {
  const Llama2cModel model = load_stories260k();
  CHECK(model.dim() == 64);
  CHECK(model.vocab_size() == 512);
  CHECK(model.seq_len() == 512);
  CHECK(model.config().hidden_dim == 172);
  CHECK(model.config().n_layers == 5);
  CHECK(model.config().n_heads == 8);
  CHECK(model.config().n_kv_heads == 4);
  CHECK(model.config().shared_classifier);
}

TEST_CASE("the runner reproduces llama2.c's greedy output token for token", "[refmodel]") {
  Llama2cModel model = load_stories260k();
  const std::vector<int> expected = parse_ids(read_file(fs::path(telltale::test::kModelDir) / "greedy_t0_n256.ids"));
  REQUIRE(expected.size() == static_cast<std::size_t>(kSteps));

  // run.c -t 0 is argmax over the raw logits.
  const std::vector<int> got = generate_like_run_c(
      model, kSteps, [](std::span<const float> logits) { return telltale::refmodel::sample_argmax(logits); });
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); i++) {
    INFO("token " << i << ": run.c emitted " << expected[i] << ", the runner " << got[i]);
    REQUIRE(got[i] == expected[i]);
  }

  // And printed as run.c prints, the ids give run.c's text byte for byte.
  const auto vocab = read_llama2c_vocab(model.vocab_size());
  CHECK(render_like_run_c(vocab, got) == read_file(fs::path(telltale::test::kModelDir) / "greedy_t0_n256.txt"));
}

TEST_CASE("the runner reproduces llama2.c's seeded top-p sample", "[refmodel]") {
  // run.c -t 1.0 -p 0.9 -s 133742 -n 256: run.c's main() keeps these as given (a positive seed is
  // used as the xorshift state as is), so the sampler gets exactly them.
  Llama2cModel model = load_stories260k();
  Llama2cSampler sampler(model.vocab_size(), 1.0f, 0.9f, 133742);
  const std::vector<int> ids =
      generate_like_run_c(model, kSteps, [&](std::span<const float> logits) { return sampler.sample(logits); });
  // -n 256 means 256 forwards from BOS at pos 0, each giving one printed token; the model does not
  // emit BOS here, so all 256 are printed (the last is "." of "help Timmy.").
  CHECK(ids.size() == static_cast<std::size_t>(kSteps));

  // run.c wrote only text, not ids, so the text is what we compare. Rendered the way run.c printed
  // it (its own tok512.bin pieces, BOS-space stripping, raw bytes), it must match byte for byte.
  const std::string expected = read_file(fs::path(telltale::test::kModelDir) / "sample_t1_p0.9_s133742.txt");
  const auto vocab = read_llama2c_vocab(model.vocab_size());
  REQUIRE(render_like_run_c(vocab, ids) == expected);

  // SentencePiece's own decoder agrees (it drops the dummy-prefix space run.c drops after BOS;
  // run.c's closing printf("\n") is not part of the tokens).
  const auto sp = load_tok512();
  std::string decoded;
  REQUIRE(sp->Decode(ids, &decoded).ok());
  CHECK(decoded + "\n" == expected);
}

TEST_CASE("tok512.model encodes run.c's greedy text back into the greedy ids", "[refmodel]") {
  // Ties the SentencePiece model in ../shared to the runner's ids: watermark tests that encode
  // text with tok512.model see the tokens the runner produced.
  const auto sp = load_tok512();
  std::string text = read_file(fs::path(telltale::test::kModelDir) / "greedy_t0_n256.txt");
  REQUIRE(!text.empty());
  text.pop_back();  // run.c's closing newline
  std::vector<int> ids;
  REQUIRE(sp->Encode(text, &ids).ok());
  CHECK(ids == parse_ids(read_file(fs::path(telltale::test::kModelDir) / "greedy_t0_n256.ids")));
}

TEST_CASE("forward refuses out-of-range tokens and positions with an empty span", "[refmodel]") {
  Llama2cModel model = load_stories260k();
  CHECK(model.forward(-1, 0).empty());
  CHECK(model.forward(model.vocab_size(), 0).empty());
  CHECK(model.forward(kBos, -1).empty());
  CHECK(model.forward(kBos, 1).empty());  // position 0 was never fed
  CHECK(model.forward(kBos, model.seq_len()).empty());
  CHECK(model.forward(kBos, 0).size() == static_cast<std::size_t>(model.vocab_size()));
  CHECK(model.forward(kBos, 2).empty());  // only 0..1 may come next
  CHECK(model.forward(kBos, 1).size() == static_cast<std::size_t>(model.vocab_size()));
}

TEST_CASE("the runner's logits are deterministic across reset, rewind and move", "[refmodel]") {
  Llama2cModel model = load_stories260k();
  const std::vector<int> prompt = {kBos, 403, 407, 261, 378};  // BOS "Once upon a time"
  const auto run = [&](Llama2cModel& m, int from) {
    std::vector<float> last;
    for (int pos = from; pos < static_cast<int>(prompt.size()); pos++) {
      const auto logits = m.forward(prompt[static_cast<std::size_t>(pos)], pos);
      REQUIRE(!logits.empty());
      last.assign(logits.begin(), logits.end());
    }
    return last;
  };
  const std::vector<float> first = run(model, 0);
  for (const float v : first) REQUIRE(std::isfinite(v));

  model.reset();
  CHECK(run(model, 0) == first);  // exact: the same float operations on the same inputs

  // Feeding a different token at pos 2 and then rewinding to pos 2 must forget it.
  REQUIRE(!model.forward(99, 2).empty());
  CHECK(model.forward(kBos, 4).empty());  // 3..4 were discarded by the rewind
  CHECK(run(model, 2) == first);

  Llama2cModel moved = std::move(model);
  moved.reset();
  CHECK(run(moved, 0) == first);
}

TEST_CASE("an unshared classifier equal to the embedding gives the same logits", "[refmodel]") {
  // A negative vocab_size tells run.c the classifier follows the weights; stories260K ties them, so
  // appending a copy of the embedding table must leave every logit unchanged.
  const TempDir dir;
  const std::string bytes = read_file(model_path());
  const std::size_t embedding_bytes = 512 * 64 * sizeof(float);
  std::string unshared = with_field(bytes, kVocab, -512) + bytes.substr(28, embedding_bytes);
  write_file(dir.path() / "unshared.bin", unshared);

  auto loaded = Llama2cModel::load((dir.path() / "unshared.bin").string());
  INFO(loaded.status().message());
  REQUIRE(loaded.is_ok());
  Llama2cModel unshared_model = std::move(loaded).value();
  CHECK_FALSE(unshared_model.config().shared_classifier);
  CHECK(unshared_model.vocab_size() == 512);

  Llama2cModel shared_model = load_stories260k();
  int token = kBos;
  for (int pos = 0; pos < 8; pos++) {
    const auto a = shared_model.forward(token, pos);
    const auto b = unshared_model.forward(token, pos);
    REQUIRE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    token = telltale::refmodel::sample_argmax(a);
  }
}

TEST_CASE("a missing or unreadable model file is refused with an I/O error", "[refmodel]") {
  const TempDir dir;
  const auto missing = Llama2cModel::load((dir.path() / "no-such-model.bin").string());
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::kIo);
  CHECK(missing.status().message().find("no-such-model.bin") != std::string::npos);

  const auto directory = Llama2cModel::load(dir.path().string());
  REQUIRE_FALSE(directory.is_ok());
  CHECK(directory.status().code() == StatusCode::kIo);
}

TEST_CASE("empty and truncated model files are refused, not read past their end", "[refmodel]") {
  const TempDir dir;
  const std::string bytes = read_file(model_path());
  expect_refused(dir, "empty.bin", "", StatusCode::kInvalidArgument);
  expect_refused(dir, "short-header.bin", bytes.substr(0, 10), StatusCode::kInvalidArgument);
  expect_refused(dir, "header-only.bin", bytes.substr(0, 28), StatusCode::kInvalidArgument);
  expect_refused(dir, "half.bin", bytes.substr(0, bytes.size() / 2), StatusCode::kInvalidArgument);
  expect_refused(dir, "one-byte-short.bin", bytes.substr(0, bytes.size() - 1), StatusCode::kInvalidArgument);
  expect_refused(dir, "one-byte-long.bin", bytes + '\0', StatusCode::kInvalidArgument);
  // Claims an unshared classifier but does not carry it.
  expect_refused(dir, "missing-classifier.bin", with_field(bytes, kVocab, -512), StatusCode::kInvalidArgument);
}

TEST_CASE("model headers with impossible sizes are refused with a message", "[refmodel]") {
  const TempDir dir;
  const std::string bytes = read_file(model_path());
  constexpr std::int32_t kBig = std::numeric_limits<std::int32_t>::max();
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  expect_refused(dir, "zero-dim.bin", with_field(bytes, kDim, 0), StatusCode::kInvalidArgument);
  expect_refused(dir, "negative-layers.bin", with_field(bytes, kLayers, -5), StatusCode::kInvalidArgument);
  expect_refused(dir, "zero-vocab.bin", with_field(bytes, kVocab, 0), StatusCode::kInvalidArgument);
  expect_refused(dir, "min-vocab.bin", with_field(bytes, kVocab, kMin), StatusCode::kInvalidArgument);
  expect_refused(dir, "huge-seq-len.bin", with_field(bytes, kSeqLen, kBig), StatusCode::kInvalidArgument);
  expect_refused(dir, "huge-hidden.bin", with_field(bytes, kHiddenDim, kBig), StatusCode::kInvalidArgument);
  expect_refused(dir, "heads-not-dividing-dim.bin", with_field(bytes, kHeads, 7), StatusCode::kInvalidArgument);
  expect_refused(dir, "kv-heads-not-dividing.bin", with_field(bytes, kKvHeads, 3), StatusCode::kInvalidArgument);
  expect_refused(dir, "more-kv-heads-than-heads.bin", with_field(bytes, kKvHeads, 16), StatusCode::kInvalidArgument);
  expect_refused(dir, "odd-head-size.bin", with_field(with_field(bytes, kHeads, 64), kKvHeads, 64),
                 StatusCode::kUnsupported);
  // A plausible but wrong header no longer matches the file's size.
  expect_refused(dir, "wrong-layers.bin", with_field(bytes, kLayers, 4), StatusCode::kInvalidArgument);
  std::string all_big(28, '\0');
  for (std::size_t f = 0; f < 7; f++) put_i32(all_big, 4 * f, kBig);
  expect_refused(dir, "all-max.bin", all_big, StatusCode::kInvalidArgument);
}

TEST_CASE("a model whose run state would be huge is refused before allocating it", "[refmodel]") {
  // A small, size-consistent file whose KV cache (2 x 1024 layers x 131072 positions x 2 floats,
  // 2 GiB) is over the runner's limit.
  const TempDir dir;
  const std::int64_t dim = 2, hidden = 1, layers = 1024, vocab = 1, seq_len = 131072;
  const std::int64_t head_size = dim;  // one head, one KV head
  const std::int64_t n_floats = vocab * dim +
                                layers * (dim + dim * dim + 2 * dim * head_size + dim * dim + dim + 3 * dim * hidden) +
                                dim + seq_len * head_size;
  std::string bytes(28 + static_cast<std::size_t>(n_floats) * 4, '\0');
  const std::int32_t header[7] = {2, 1, 1024, 1, 1, 1, 131072};
  for (std::size_t f = 0; f < 7; f++) put_i32(bytes, 4 * f, header[f]);
  expect_refused(dir, "huge-state.bin", bytes, StatusCode::kUnsupported);
}

TEST_CASE("a model with a non-finite weight is refused", "[refmodel]") {
  const TempDir dir;
  std::string bytes = read_file(model_path());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bytes.data() + 28 + 4 * 1000, &nan, 4);
  expect_refused(dir, "nan.bin", bytes, StatusCode::kInvalidArgument);
}

TEST_CASE("llama2.c's top-p keeps equal probabilities in index order, as glibc's stable qsort does", "[refmodel]") {
  using telltale::refmodel::ProbIndex;
  using telltale::refmodel::sample_topp;
  // Four equal candidates: top-p 0.6 keeps the first three in index order (0.25, 0.5, 0.75 > 0.6),
  // and the coin picks among them by position, so index order decides which token a coin gives.
  const std::vector<float> probs = {0.25f, 0.25f, 0.25f, 0.25f};
  std::vector<ProbIndex> scratch(probs.size());
  CHECK(sample_topp(probs, 0.6f, scratch, 0.0f) == 0);
  CHECK(sample_topp(probs, 0.6f, scratch, 0.4f) == 1);  // r = 0.4 * 0.75 = 0.3
  CHECK(sample_topp(probs, 0.6f, scratch, 0.9f) == 2);  // r = 0.675: the fourth was cut
  // Sorted by descending probability first, the index only breaks ties.
  const std::vector<float> mixed = {0.1f, 0.3f, 0.3f, 0.3f};
  CHECK(sample_topp(mixed, 0.5f, scratch, 0.0f) == 1);
  CHECK(sample_topp(mixed, 0.5f, scratch, 0.99f) == 2);
  // run.c reads out of bounds when its cutoff drops every candidate; the port takes the argmax.
  CHECK(sample_topp(std::vector<float>{0.5f, 0.5f}, 0.1f, scratch, 0.5f) == 0);
  CHECK(sample_topp(probs, 0.6f, std::span<ProbIndex>(scratch.data(), 2), 0.5f) == -1);
}

TEST_CASE("llama2.c's xorshift generator gives run.c's first draws", "[refmodel]") {
  // run.c's random_u32 from state 133742 (the seed of the top-p reference), computed independently
  // with Python's unbounded integers masked to 64 bits.
  std::uint64_t state = 133742;
  const std::uint32_t expected[] = {3033531262u, 2674377904u, 2312864567u, 2287415643u};
  for (const std::uint32_t e : expected) CHECK(telltale::refmodel::random_u32(state) == e);
  CHECK(state == 0x572f034a65a30360ULL);
  // The first coin of the top-p run: (3033531262 >> 8) / 2^24, exact in float.
  std::uint64_t coin_state = 133742;
  CHECK(telltale::refmodel::random_f32(coin_state) == 11849731.0f / 16777216.0f);
}
