// The reference runner as a suspect: teacher text in chunks of the model's context, top-k ids per position, one
// predictions record per chunk.
#include "radio/reference_predictions.hpp"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "next_token_predictor.hpp"
#include "radio/predictions.hpp"
#include "score/document_ids.hpp"
#include "telltale/new_file.hpp"

namespace telltale::radio {

size_t prediction_chunk_ids(const refmodel::Llama2cModel& model) {
  return model.seq_len() > 1 ? static_cast<size_t>(model.seq_len() - 1) : 0;
}

std::string prediction_record_name(const input::Document& doc, size_t offset) {
  return score::document_name(doc) + (offset ? "@" + std::to_string(offset) : "");
}

Result<uint64_t> write_reference_predictions(const TeacherText& text, refmodel::Llama2cModel& model,
                                             const std::string& model_name, const input::Tokenizer& tokenizer,
                                             uint32_t top_k, const std::string& out) {
  TT_RETURN_IF_ERROR(check_new_path(out));
  if (top_k < 1 || top_k > kMaxPredictedPerPosition)
    return invalid_argument("top-k must be in [1, " + std::to_string(kMaxPredictedPerPosition) + "]");
  if (model.vocab_size() != tokenizer.vocab_size())
    return invalid_argument(model_name + ": the model has " + std::to_string(model.vocab_size()) +
                            " ids but the tokenizer " + std::to_string(tokenizer.vocab_size()));
  const size_t chunk = prediction_chunk_ids(model);
  if (chunk == 0) return invalid_argument(model_name + ": the model's context holds no id after BOS");
  auto created = NewFile::create(out, FileAccess::kShared);
  if (!created) return created.status();
  std::ostream& file = created->stream();
  PredictionsHeader h;
  h.vocab_size = static_cast<uint32_t>(tokenizer.vocab_size());
  h.tokenizer_sha256 = tokenizer.sha256_hex();
  h.suspect = "reference runner: " + std::filesystem::path(model_name).filename().string();
  file << predictions_header_line(h) << '\n';
  uint64_t records = 0;
  PredictionRecord r;
  TT_RETURN_IF_ERROR(
      for_each_teacher_document(text, tokenizer, [&](const input::Document& d, std::span<const int32_t> ids) {
        for (size_t at = 0; at < ids.size(); at += chunk) {
          const auto piece = ids.subspan(at, std::min(chunk, ids.size() - at));
          auto top = refmodel::predict_next_tokens(model, piece, top_k);
          if (!top) return top.status();
          r.doc = prediction_record_name(d, at);
          r.ids.assign(piece.begin(), piece.end());
          r.positions.clear();
          for (size_t p = 1; p <= piece.size(); ++p) r.positions.push_back(static_cast<uint32_t>(p));
          r.predicted = std::move(top->ids);
          r.logprobs = std::move(top->logprobs);
          file << prediction_record_line(r) << '\n';
          ++records;
        }
        return Status::ok();
      }));
  TT_RETURN_IF_ERROR(created->commit());
  return records;
}

}  // namespace telltale::radio
