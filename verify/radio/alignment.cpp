// Alignment by byte offsets: both tokenizations are cut points in the same byte string, so a suspect prediction is
// read in the watermark's terms exactly when its offset is a watermark cut point and its bytes are one watermark piece
// (or, by the first-piece rule, begin with the first token of their own encoding).
#include "radio/alignment.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace telltale::radio {

namespace {

// The text offset just after each byte of `body` (the pieces' bytes), when `text` is `body` with spaces added
// anywhere (SentencePiece's remove_extra_whitespaces drops leading, trailing and repeated spaces); nullopt and the
// offset of the first text byte the pieces do not reproduce otherwise.
std::optional<std::vector<size_t>> text_offsets(std::string_view body, std::string_view text, size_t& mismatch) {
  std::vector<size_t> after(body.size());
  size_t j = 0;
  for (size_t i = 0; i < body.size(); ++i, ++j) {
    while (j < text.size() && text[j] != body[i] && text[j] == ' ') ++j;
    if (j == text.size() || text[j] != body[i]) {
      mismatch = j;
      return std::nullopt;
    }
    after[i] = j + 1;
  }
  while (j < text.size() && text[j] == ' ') ++j;
  if (j != text.size()) {
    mismatch = j;
    return std::nullopt;
  }
  return after;
}

}  // namespace

Result<AlignedText> align_text(std::string_view text, const input::Tokenizer& tokenizer, const PieceTable& pieces) {
  AlignedText out;
  if (Status s = tokenizer.encode(text, out.ids); !s.is_ok()) return s;
  std::string spelled;
  std::vector<size_t> spelled_ends;
  for (const int32_t id : out.ids) {
    const auto b = pieces.bytes(id);
    if (!b)
      return invalid_argument("the watermark tokenizer has no bytes for its id " + std::to_string(id) +
                              " at byte offset " + std::to_string(spelled.size()) + " of the text");
    spelled += *b;
    spelled_ends.push_back(spelled.size());
  }
  // The pieces' bytes as they stand in the text, with the dummy-prefix space the tokenizer added (lead) or without.
  size_t mismatch = 0, first_mismatch = 0;
  for (const bool lead : {false, true}) {
    if (lead && (spelled.empty() || spelled[0] != ' ')) break;
    const std::string_view body = std::string_view(spelled).substr(lead ? 1 : 0);
    const auto after = text_offsets(body, text, mismatch);
    if (!lead) first_mismatch = mismatch;
    if (!after) continue;
    out.bytes = text.size();
    out.ends.reserve(spelled_ends.size());
    for (const size_t e : spelled_ends) {
      const size_t in_body = e - (lead && e > 0 ? 1 : 0);  // a lone lead space ends at 0 of the body
      out.ends.push_back(in_body == 0 ? 0 : (*after)[in_body - 1]);
    }
    return out;
  }
  return invalid_argument("the watermark tokenizer does not spell the text again at byte offset " +
                          std::to_string(std::max(first_mismatch, mismatch)));
}

std::optional<int32_t> FirstPieceReader::first_token(const std::string& bytes) {
  if (const auto it = cache_.find(bytes); it != cache_.end()) return it->second;
  std::optional<int32_t> token;
  // Bytes the tokenizer cannot encode stand for no token, as a piece with no bytes does.
  if (tok_.encode(bytes, ids_).is_ok() && !ids_.empty()) {
    const auto first = pieces_.bytes(ids_[0]);
    if (first && !first->empty() && std::string_view(bytes).starts_with(*first)) token = ids_[0];
  }
  cache_.emplace(bytes, token);
  return token;
}

Result<PredictionRecord> align_predictions(const AlignedText& text, std::span<const SuspectPosition> positions,
                                           const PieceTable& watermark_pieces, bool need_top, AlignmentCounts& counts,
                                           FirstPieceReader* first_piece) {
  PredictionRecord r;
  r.ids = text.ids;
  const size_t size = std::max(text.bytes, text.ends.empty() ? size_t{0} : text.ends.back());
  bool all_logprobs = true;
  std::vector<std::vector<double>> probs;
  size_t previous = 0;
  for (size_t i = 0; i < positions.size(); ++i) {
    const SuspectPosition& pos = positions[i];
    if (pos.offset > size)
      return invalid_argument("a prediction at byte offset " + std::to_string(pos.offset) + ", past the text's " +
                              std::to_string(size) + " bytes");
    if (i > 0 && pos.offset <= previous)
      return invalid_argument("prediction offsets must be strictly increasing (byte offset " +
                              std::to_string(pos.offset) + ")");
    previous = pos.offset;
    ++counts.positions;
    // A boundary: the last watermark token that ends exactly here (tokens with no bytes of the text, a prompt before
    // it or a lone dummy-prefix space, end at 0); p = its index + 1 tokens read.
    const auto after = std::upper_bound(text.ends.begin(), text.ends.end(), pos.offset);
    if (after == text.ends.begin() || *(after - 1) != pos.offset) {
      ++counts.off_boundary;
      continue;
    }
    const auto read = static_cast<uint32_t>(after - text.ends.begin());
    std::vector<int32_t> ids;
    std::vector<double> p;  // merged probabilities, one per id
    bool top = false;
    for (size_t rank = 0; rank < pos.candidates.size(); ++rank) {
      const SuspectCandidate& c = pos.candidates[rank];
      ++counts.candidates;
      auto id = c.bytes ? watermark_pieces.id_of(*c.bytes) : std::nullopt;
      if (!id && c.bytes && first_piece) {
        id = first_piece->first_token(*c.bytes);
        if (id) ++counts.first_piece_kept;
      }
      if (!id) continue;
      ++counts.candidates_kept;
      if (rank == 0) top = true;
      if (!c.logprob) all_logprobs = false;
      const double prob = c.logprob ? std::exp(*c.logprob) : 0.0;
      const auto at = std::find(ids.begin(), ids.end(), *id);
      if (at == ids.end()) {
        ids.push_back(*id);
        p.push_back(prob);
      } else {
        p[static_cast<size_t>(at - ids.begin())] += prob;
      }
    }
    if (need_top && !top) {
      ++counts.top_unaligned;
      continue;
    }
    if (ids.empty()) continue;
    r.positions.push_back(read);
    r.predicted.push_back(std::move(ids));
    probs.push_back(std::move(p));
  }
  if (all_logprobs && !probs.empty())
    for (const auto& p : probs) {
      std::vector<float> lp;
      for (const double v : p) lp.push_back(static_cast<float>(std::log(std::min(1.0, v))));
      r.logprobs.push_back(std::move(lp));
    }
  return r;
}

Result<std::pair<std::string, std::vector<SuspectPosition>>> suspect_record_text(const PredictionRecord& record,
                                                                                 const PieceTable& suspect_pieces) {
  std::string text;
  std::vector<size_t> starts;  // starts[p] = byte offset after ids[0 .. p-1]
  starts.reserve(record.ids.size() + 1);
  for (const int32_t id : record.ids) {
    starts.push_back(text.size());
    const auto b = suspect_pieces.bytes(id);
    if (!b)
      return invalid_argument("suspect id " + std::to_string(id) + " at byte offset " + std::to_string(text.size()) +
                              " stands for no text (a control or unknown piece)");
    text += *b;
  }
  starts.push_back(text.size());
  std::vector<SuspectPosition> positions(record.positions.size());
  for (size_t i = 0; i < record.positions.size(); ++i) {
    positions[i].offset = starts[record.positions[i]];
    for (size_t rank = 0; rank < record.predicted[i].size(); ++rank) {
      SuspectCandidate c;
      if (const auto b = suspect_pieces.bytes(record.predicted[i][rank])) c.bytes = std::string(*b);
      if (!record.logprobs.empty()) c.logprob = record.logprobs[i][rank];
      positions[i].candidates.push_back(std::move(c));
    }
  }
  return std::make_pair(std::move(text), std::move(positions));
}

Result<std::vector<SuspectPosition>> answer_positions(const Answer& answer) {
  std::vector<SuspectPosition> out;
  out.reserve(answer.logprobs.size());
  size_t offset = 0;
  for (const AnswerToken& t : answer.logprobs) {
    const std::string_view rest = std::string_view(answer.response).substr(offset);
    if (rest.substr(0, t.chosen.bytes.size()) != t.chosen.bytes) {
      const auto diff = std::mismatch(rest.begin(), rest.end(), t.chosen.bytes.begin(), t.chosen.bytes.end());
      return invalid_argument("the 'logprobs' tokens do not spell the response at byte offset " +
                              std::to_string(offset + static_cast<size_t>(diff.first - rest.begin())));
    }
    SuspectPosition pos;
    pos.offset = offset;
    bool chosen_listed = false;
    for (const AnswerTokenChoice& c : t.top) {
      pos.candidates.push_back({c.bytes, c.logprob});
      chosen_listed = chosen_listed || c.bytes == t.chosen.bytes;
    }
    if (!chosen_listed) pos.candidates.push_back({t.chosen.bytes, t.chosen.logprob});
    offset += t.chosen.bytes.size();
    if (!t.chosen.bytes.empty()) out.push_back(std::move(pos));  // an empty token adds no place to predict at
  }
  if (offset != answer.response.size())
    return invalid_argument("the 'logprobs' tokens do not spell the response at byte offset " + std::to_string(offset));
  return out;
}

}  // namespace telltale::radio
