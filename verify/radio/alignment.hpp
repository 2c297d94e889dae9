// Reading a suspect that has its own tokenizer: its predictions, made at byte offsets of a text and given as byte
// strings, lined up with the watermark tokenizer's tokens of the same text. A prediction counts only where its offset
// is a watermark-token boundary and its bytes are exactly one whole watermark token (spec/radioactivity.md, section 6).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio/answer_log.hpp"
#include "radio/piece_table.hpp"
#include "radio/predictions.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// A text in watermark tokens: ids[i] covers the bytes [ends[i - 1], ends[i]) of the text (ends[-1] = 0). Tokens
// before the text (a closed model's prompt) end at 0.
struct AlignedText {
  std::vector<int32_t> ids;
  std::vector<size_t> ends;
  size_t bytes = 0;  // the text's size, when spaces the tokenizer dropped follow the last token (else ends.back())
};

// Tokenizes `text` with the watermark tokenizer and checks that its pieces spell the text again, byte for byte, but
// for spaces the tokenizer dropped (leading, trailing or repeated: SentencePiece's remove_extra_whitespaces), which
// belong to the token after them; a leading space the tokenizer adds, SentencePiece's dummy prefix, belongs to the
// first token. Error: the byte offset of the first byte the pieces do not reproduce.
Result<AlignedText> align_text(std::string_view text, const input::Tokenizer& tokenizer, const PieceTable& pieces);

// One suspect candidate: its bytes (nullopt: a piece with no bytes, e.g. a control id) and its natural-log
// probability when known.
struct SuspectCandidate {
  std::optional<std::string> bytes;
  std::optional<double> logprob;
};

// The suspect's candidates after reading the first `offset` bytes of the text, most likely first.
struct SuspectPosition {
  size_t offset = 0;
  std::vector<SuspectCandidate> candidates;
};

struct AlignmentCounts {
  uint64_t positions = 0;         // suspect positions read
  uint64_t off_boundary = 0;      // ... at an offset where no watermark token ends
  uint64_t top_unaligned = 0;     // ... whose most likely candidate is read as no watermark token
  uint64_t candidates = 0;        // candidates read at boundary positions
  uint64_t candidates_kept = 0;   // ... read as a watermark token (one whole token, or by its first piece)
  uint64_t first_piece_kept = 0;  // ... of them by their first piece (the first-piece rule)
};

// The first-piece rule (spec/predictions-format.md section 4, rule 3): a candidate whose bytes are not one whole
// watermark token stands for the first token of their encoding by the watermark tokenizer, when that token's bytes
// begin them (so no dummy-prefix space is added to a piece inside a word): a suspect token " girl" is read as the
// watermark's " g" where the watermark tokenizer writes " g" "ir" "l". Each byte string is encoded once per run.
class FirstPieceReader {
 public:
  FirstPieceReader(const input::Tokenizer& tokenizer, const PieceTable& pieces) : tok_(tokenizer), pieces_(pieces) {}
  std::optional<int32_t> first_token(const std::string& bytes);

 private:
  const input::Tokenizer& tok_;
  const PieceTable& pieces_;
  std::unordered_map<std::string, std::optional<int32_t>> cache_;
  std::vector<int32_t> ids_;
};

// The watermark-side record: ids = text.ids; at each boundary position, the candidates that are one whole watermark
// token (or, with `first_piece`, are read by their first piece), in the suspect's order, a watermark id met twice
// merged into its first place with the probabilities added. With `need_top`, a position whose most likely candidate is
// not one whole watermark token is dropped (top-1 and top-k scores); without it (probability scores) its other
// candidates still count. logprobs are kept only when every candidate of the record has one. Offsets must be strictly
// increasing and at most the text's size (else an error naming the offset).
Result<PredictionRecord> align_predictions(const AlignedText& text, std::span<const SuspectPosition> positions,
                                           const PieceTable& watermark_pieces, bool need_top, AlignmentCounts& counts,
                                           FirstPieceReader* first_piece = nullptr);

// A record in the suspect's own ids (spec/predictions-format.md, section 4) as text and byte-offset positions: the text
// is its pieces' bytes, position p the offset after ids[0 .. p-1]. Error: an id of the text with no bytes (control or
// unknown), named with its byte offset.
Result<std::pair<std::string, std::vector<SuspectPosition>>> suspect_record_text(const PredictionRecord& record,
                                                                                 const PieceTable& suspect_pieces);

// A closed-model answer's logprobs as positions in its response: at the start of each answer token, the returned
// alternatives (top_logprobs) and the token itself when it is not among them. Error: the tokens' bytes do not spell
// the response, named with the first byte offset where they differ.
Result<std::vector<SuspectPosition>> answer_positions(const Answer& answer);

}  // namespace telltale::radio
