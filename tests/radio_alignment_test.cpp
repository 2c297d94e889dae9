// Reading a suspect with its own tokenizer: hand-made pairs of tokenizations lined up by byte offsets (byte-fallback
// pieces, multi-token words, leading spaces, a suspect token over two watermark tokens), the reference tokenizer
// aligned with itself, and production vocabularies (llama.cpp GGUF) read as a suspect's.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio/alignment.hpp"
#include "radio/piece_table.hpp"
#include "test_paths.hpp"
#include "tokenizer_test_support.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::radio;

namespace {

// The watermark vocabulary of the hand-made cases: id = index.
const std::vector<std::string> kWatermarkPieces = {
    "<unk>",          "<0xC3>", "<0xA9>", "a",   "<0x61>",       "\xe2\x96\x81the",
    "\xe2\x96\x81un", "believ", "able",   "the", "\xe2\x96\x81", "caf"};

// " the unbelievable caf\xc3\xa9" in watermark tokens: ▁the ▁un believ able ▁ caf <0xC3> <0xA9>.
AlignedText watermark_text() {
  AlignedText t;
  t.ids = {5, 6, 7, 8, 10, 11, 1, 2};
  t.ends = {4, 7, 13, 17, 18, 21, 22, 23};
  return t;
}

SuspectPosition at(size_t offset, std::vector<std::string> candidates, std::vector<double> logprobs = {}) {
  SuspectPosition p;
  p.offset = offset;
  for (size_t i = 0; i < candidates.size(); ++i) {
    SuspectCandidate c;
    c.bytes = candidates[i];
    if (!logprobs.empty()) c.logprob = logprobs[i];
    p.candidates.push_back(c);
  }
  return p;
}

}  // namespace

TEST_CASE("a piece table reads byte-fallback pieces as their byte and the leading-space mark as a space",
          "[radio][alignment]") {
  const PieceTable t = PieceTable::from_pieces(kWatermarkPieces);
  CHECK(t.bytes(1) == std::optional<std::string_view>("\xc3"));
  CHECK(t.bytes(5) == std::optional<std::string_view>(" the"));
  CHECK_FALSE(t.bytes(0).has_value());               // <unk> stands for no bytes
  CHECK_FALSE(t.bytes(99).has_value());              // outside the vocabulary
  CHECK(t.id_of("a") == std::optional<int32_t>(3));  // the text piece, not the byte piece <0x61>
  CHECK(t.id_of(" the") == std::optional<int32_t>(5));
  CHECK_FALSE(t.id_of("the ").has_value());
}

TEST_CASE("a suspect prediction counts only at a watermark boundary and only as one whole watermark token",
          "[radio][alignment]") {
  const PieceTable wm = PieceTable::from_pieces(kWatermarkPieces);
  const AlignedText text = watermark_text();
  const std::vector<SuspectPosition> positions = {
      at(4, {" unbeliev"}),    // spans ▁un + believ: not one watermark token
      at(5, {"n"}),            // offset 5 is inside ▁un: not a boundary
      at(7, {"believ"}),       // multi-token word: its middle piece, at a boundary
      at(13, {"able"}),        // its last piece
      at(18, {"caf", "the"}),  // after the lone ▁; the second candidate has no leading space: the piece "the"
      at(21, {"\xc3\xa9"}),    // é spans the two byte-fallback pieces: not one token
      at(22, {"\xa9"}),        // a single byte: the byte-fallback piece <0xA9>
  };
  AlignmentCounts counts;
  auto r = align_predictions(text, positions, wm, true, counts);
  REQUIRE(r.is_ok());
  CHECK(r->ids == text.ids);
  CHECK(r->positions == std::vector<uint32_t>{2, 3, 5, 7});
  CHECK(r->predicted == std::vector<std::vector<int32_t>>{{7}, {8}, {11, 9}, {2}});
  CHECK(counts.positions == 7);
  CHECK(counts.off_boundary == 1);
  CHECK(counts.top_unaligned == 2);
  CHECK(counts.candidates == 7);
  CHECK(counts.candidates_kept == 5);
  CHECK(r->logprobs.empty());  // no candidate had a log-probability
}

TEST_CASE("the leading space is part of the token: ' the' and 'the' are different watermark tokens",
          "[radio][alignment]") {
  const PieceTable wm = PieceTable::from_pieces(kWatermarkPieces);
  AlignedText text;  // "a the": a ▁the
  text.ids = {3, 5};
  text.ends = {1, 5};
  AlignmentCounts counts;
  auto with_space = align_predictions(text, std::vector{at(1, {" the"})}, wm, true, counts);
  auto without = align_predictions(text, std::vector{at(1, {"the"})}, wm, true, counts);
  REQUIRE(with_space.is_ok());
  REQUIRE(without.is_ok());
  CHECK(with_space->predicted == std::vector<std::vector<int32_t>>{{5}});
  CHECK(without->predicted == std::vector<std::vector<int32_t>>{{9}});
}

TEST_CASE("for probability scores, candidates that are the same watermark token are merged with their mass added",
          "[radio][alignment]") {
  const PieceTable wm = PieceTable::from_pieces(kWatermarkPieces);
  AlignedText text;
  text.ids = {3, 3};
  text.ends = {1, 2};
  // "a" and the byte "a" are one watermark token; " unbeliev" is none: its mass is dropped, not imputed.
  const std::vector<SuspectPosition> positions = {at(1, {" unbeliev", "a", "\x61"}, {-0.5, -1.0, -2.0})};
  AlignmentCounts counts;
  auto top = align_predictions(text, positions, wm, true, counts);
  REQUIRE(top.is_ok());
  CHECK(top->positions.empty());  // top-1 does not align: dropped for a top-ranked score
  auto prob = align_predictions(text, positions, wm, false, counts);
  REQUIRE(prob.is_ok());
  REQUIRE(prob->predicted == std::vector<std::vector<int32_t>>{{3}});
  REQUIRE(prob->logprobs.size() == 1);
  CHECK(std::exp(prob->logprobs[0][0]) == Approx(std::exp(-1.0) + std::exp(-2.0)).epsilon(1e-6));
}

TEST_CASE("prediction offsets past the text or not increasing are errors naming the offset", "[radio][alignment]") {
  const PieceTable wm = PieceTable::from_pieces(kWatermarkPieces);
  const AlignedText text = watermark_text();
  AlignmentCounts counts;
  auto past = align_predictions(text, std::vector{at(24, {"a"})}, wm, true, counts);
  REQUIRE_FALSE(past.is_ok());
  CHECK_THAT(past.status().message(), Catch::Contains("byte offset 24"));
  auto back = align_predictions(text, std::vector{at(7, {"a"}), at(4, {"a"})}, wm, true, counts);
  REQUIRE_FALSE(back.is_ok());
  CHECK_THAT(back.status().message(), Catch::Contains("byte offset 4"));
}

// The reference tokenizer and its piece table.
struct Reference {
  input::Tokenizer tok;
  PieceTable pieces;
};
Reference reference() {
  auto tok = input::Tokenizer::load(test::model_file("tok512.model"));
  REQUIRE(tok.is_ok());
  auto pieces = PieceTable::load(test::model_file("tok512.model"));
  REQUIRE(pieces.is_ok());
  return {std::move(tok).value(), std::move(pieces).value()};
}

TEST_CASE("the watermark tokens of a text end at its byte offsets, a dummy-prefix space belonging to the first",
          "[radio][alignment]") {
  const Reference ref = reference();
  auto ok = align_text("Once upon a time", ref.tok, ref.pieces);
  REQUIRE(ok.is_ok());
  CHECK(ok->ends.back() == 16);
  CHECK(ok->ends.front() == 4);  // "▁Once" covers the added space and "Once"
  auto leading = align_text(" Once upon a time", ref.tok, ref.pieces);
  REQUIRE(leading.is_ok());
  CHECK(leading->ends.back() == 17);
}

TEST_CASE("spaces the tokenizer drops (leading, repeated, trailing) belong to the token after them",
          "[radio][alignment]") {
  const Reference ref = reference();
  // "  Once  upon a time ": the tokenizer reads "Once upon a time" (▁Once ▁upon ▁a ▁time), as an API's answer that
  // starts with a space or a model that emitted two spaces would give it.
  const std::string text = "  Once  upon a time ";
  auto spaced = align_text(text, ref.tok, ref.pieces);
  REQUIRE(spaced.is_ok());
  auto plain = align_text("Once upon a time", ref.tok, ref.pieces);
  REQUIRE(plain.is_ok());
  CHECK(spaced->ids == plain->ids);
  CHECK(spaced->ends == std::vector<size_t>{6, 12, 14, 19});  // ▁Once ends after "  Once", ▁upon after "  upon"
  CHECK(spaced->bytes == text.size());
  // A suspect prediction after the trailing space is within the text, at no watermark boundary.
  std::vector<SuspectPosition> positions(1);
  positions[0].offset = 20;
  positions[0].candidates.push_back({std::string(" "), std::nullopt});
  AlignmentCounts counts;
  REQUIRE(align_predictions(*spaced, positions, ref.pieces, false, counts).is_ok());
  CHECK(counts.positions == 1);
  CHECK(counts.off_boundary == 1);
}

TEST_CASE("a text the watermark pieces do not spell again is refused at the first differing byte",
          "[radio][alignment]") {
  const Reference ref = reference();
  // The same vocabulary with every 'u' read as 'v': "Once upon" is no longer spelled from byte 5 on.
  std::vector<std::string> pieces;
  for (int32_t id = 0; id < ref.pieces.size(); ++id) {
    const auto b = ref.pieces.bytes(id);
    std::string p = b ? std::string(*b) : "<control>";
    if (b) std::replace(p.begin(), p.end(), 'u', 'v');
    pieces.push_back(p);
  }
  auto bad = align_text("Once upon a time", ref.tok, PieceTable::from_pieces(pieces));
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("at byte offset 5"));
}

TEST_CASE("the reference tokenizer read as a suspect tokenizer aligns with itself, every prediction kept",
          "[radio][alignment]") {
  const Reference ref = reference();
  PredictionRecord r;
  REQUIRE(ref.tok.encode("Once upon a time there was a little girl named Lily.", r.ids).is_ok());
  for (uint32_t p = 1; p < r.ids.size(); ++p) {
    r.positions.push_back(p);
    r.predicted.push_back({r.ids[p]});
  }
  auto text = suspect_record_text(r, ref.pieces);
  REQUIRE(text.is_ok());
  auto aligned = align_text(text->first, ref.tok, ref.pieces);
  REQUIRE(aligned.is_ok());
  AlignmentCounts counts;
  auto back = align_predictions(*aligned, text->second, ref.pieces, true, counts);
  REQUIRE(back.is_ok());
  CHECK(back->ids == r.ids);
  CHECK(back->positions == r.positions);
  CHECK(back->predicted == r.predicted);
  CHECK(counts.off_boundary == 0);
}

TEST_CASE("a production vocabulary (llama.cpp GGUF) read as a suspect's spells every text its tokenizer encodes",
          "[radio][alignment][gguf]") {
  if (!test::have_llama_vocabularies()) {
    SUCCEED("llama.cpp not found");
    return;
  }
  const std::vector<std::string> texts = {"Once upon a time there was a little girl named Lily.",
                                          "  two  spaces, then\nlines\tand tabs ",
                                          "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x99 it's 3 o'clock"};
  // Byte-level BPE (Llama 3, GPT-2) and SPM with byte fallback and a space prefix (Llama 2).
  for (const char* name : {"llama-bpe", "gpt-2", "llama-spm"}) {
    INFO(name);
    const std::string path = test::llama_vocab_path(name);
    const input::Tokenizer& tok = test::loaded_tokenizer(path);
    auto pieces = PieceTable::load(path);
    REQUIRE(pieces.is_ok());
    CHECK(pieces->size() == tok.vocab_size());
    CHECK(pieces->sha256_hex() == tok.sha256_hex());
    if (tok.bos_id() >= 0) CHECK_FALSE(pieces->bytes(tok.bos_id()).has_value());
    for (const std::string& text : texts) {
      INFO(text);
      std::vector<int32_t> ids;
      REQUIRE(tok.encode(text, ids).is_ok());
      std::string spelled;
      for (int32_t id : ids) {
        const auto b = pieces->bytes(id);
        REQUIRE(b.has_value());
        spelled += *b;
      }
      // SPM puts a space before every text it encodes; byte-level BPE spells the text as it is.
      CHECK(spelled == (std::string(name) == "llama-spm" ? " " + text : text));
    }
  }
  // SPM's byte tokens are their byte; a text piece of the same bytes comes first.
  auto spm = PieceTable::load(test::llama_vocab_path("llama-spm"));
  REQUIRE(spm.is_ok());
  const auto e2 = spm->id_of("\xE2");
  REQUIRE(e2.has_value());
  CHECK(*spm->bytes(*e2) == "\xE2");
  const auto the = spm->id_of(" the");
  REQUIRE(the.has_value());
  CHECK(*spm->bytes(*the) == " the");
}

TEST_CASE("a suspect with a production tokenizer lines up with the reference tokenizer by byte offsets",
          "[radio][alignment][gguf]") {
  if (!test::have_llama_vocabularies()) {
    SUCCEED("llama.cpp not found");
    return;
  }
  const Reference ref = reference();
  const std::string path = test::llama_vocab_path("llama-bpe");
  auto suspect = PieceTable::load(path);
  REQUIRE(suspect.is_ok());
  const std::string text = "Once upon a time there was a little girl named Lily. She loved to play outside.";
  PredictionRecord r;
  REQUIRE(test::loaded_tokenizer(path).encode(text, r.ids).is_ok());
  for (uint32_t p = 1; p < r.ids.size(); ++p) {  // a suspect that predicts the text itself
    r.positions.push_back(p);
    r.predicted.push_back({r.ids[p]});
  }
  auto read = suspect_record_text(r, *suspect);
  REQUIRE(read.is_ok());
  CHECK(read->first == text);
  auto aligned = align_text(read->first, ref.tok, ref.pieces);
  REQUIRE(aligned.is_ok());
  AlignmentCounts counts;
  auto back = align_predictions(*aligned, read->second, ref.pieces, true, counts);
  REQUIRE(back.is_ok());
  // Every position is read. Llama 3's words end where the reference's pieces end here (no position off a
  // boundary), but some are more than one reference piece (" girl": "▁g" "ir" "l"), so that prediction is not one
  // whole watermark token and is dropped; each kept one is a reference token that spells the text from the boundary
  // on: the suspect predicted the text itself.
  INFO("positions " << counts.positions << ", off a boundary " << counts.off_boundary << ", top not one token "
                    << counts.top_unaligned << ", kept " << counts.candidates_kept);
  CHECK(counts.positions == r.positions.size());
  CHECK(counts.top_unaligned > 0);
  CHECK(counts.candidates_kept > 0);
  CHECK(counts.off_boundary + counts.top_unaligned + counts.candidates_kept == counts.positions);
  REQUIRE(back->positions.size() == counts.candidates_kept);
  for (size_t i = 0; i < back->positions.size(); ++i) {
    const uint32_t p = back->positions[i];
    REQUIRE(p < aligned->ids.size());
    const size_t start = p == 0 ? 0 : aligned->ends[p - 1];
    REQUIRE(back->predicted[i].size() == 1);
    const auto b = ref.pieces.bytes(back->predicted[i][0]);
    REQUIRE(b.has_value());
    CHECK(text.compare(start, b->size(), *b) == 0);
  }
}

TEST_CASE("a malformed GGUF given as a suspect's tokenizer is refused with one line that names it",
          "[radio][alignment][gguf]") {
  test::ScratchDir dir("suspect-gguf");
  std::vector<std::pair<std::string, std::string>> bad = {{"magic-only.gguf", "GGUF"},
                                                          {"garbage.gguf", "GGUF\x03\x00\x00\x00 not a header"}};
  if (test::have_llama_vocabularies()) {
    const std::string whole = test::slurp(test::llama_vocab_path("llama-bpe"));
    bad.emplace_back("truncated.gguf", whole.substr(0, whole.size() - 1000));
  }
  for (const auto& [name, bytes] : bad) {
    dir.file(name, bytes);
    auto t = PieceTable::load(dir.path(name));
    INFO(name);
    REQUIRE_FALSE(t.is_ok());
    const std::string msg = t.status().message();
    INFO(msg);
    CHECK(msg.rfind(dir.path(name), 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE(
    "the first-piece rule reads a suspect word as the first watermark token of its encoding, never inventing a "
    "leading space",
    "[radio][alignment]") {
  const Reference ref = reference();
  // A word the reference tokenizer cuts in pieces: the suspect's one token for it is no watermark token.
  std::vector<int32_t> word;
  REQUIRE(ref.tok.encode(" unbelievable", word).is_ok());
  REQUIRE(word.size() > 1);
  REQUIRE_FALSE(ref.pieces.id_of(" unbelievable").has_value());
  FirstPieceReader reader(ref.tok, ref.pieces);
  CHECK(reader.first_token(" unbelievable") == std::optional<int32_t>(word[0]));
  // Inside a word, the tokenizer's encoding starts with a space the text does not have: read as no token.
  std::vector<int32_t> inner;
  REQUIRE(ref.tok.encode("believable", inner).is_ok());
  REQUIRE(ref.pieces.bytes(inner[0])->starts_with(" "));
  CHECK_FALSE(reader.first_token("believable").has_value());
  CHECK(reader.first_token("believable") == reader.first_token("believable"));  // the cached answer is the same

  auto text = align_text("It was unbelievable", ref.tok, ref.pieces);
  REQUIRE(text.is_ok());
  const size_t was = std::string("It was").size();  // a watermark boundary: ▁was ends here
  REQUIRE(std::find(text->ends.begin(), text->ends.end(), was) != text->ends.end());
  // The first candidate is the word (read by its first piece), the second that piece itself: merged, mass added.
  const std::string piece(*ref.pieces.bytes(word[0]));
  const std::vector<SuspectPosition> positions = {at(was, {" unbelievable", piece, "believable"}, {-0.5, -1.5, -2.0})};
  AlignmentCounts whole, first;
  auto dropped = align_predictions(*text, positions, ref.pieces, true, whole);
  REQUIRE(dropped.is_ok());
  CHECK(dropped->positions.empty());  // whole-token: the top candidate is no watermark token
  CHECK(whole.top_unaligned == 1);
  auto read = align_predictions(*text, positions, ref.pieces, false, first, &reader);
  REQUIRE(read.is_ok());
  REQUIRE(read->predicted == std::vector<std::vector<int32_t>>{{word[0]}});
  CHECK(std::exp(read->logprobs[0][0]) == Approx(std::exp(-0.5) + std::exp(-1.5)).epsilon(1e-6));
  CHECK(first.first_piece_kept == 1);
  CHECK(first.candidates_kept == 2);
  CHECK(first.candidates == 3);
}
