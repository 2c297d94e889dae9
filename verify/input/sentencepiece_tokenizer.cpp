// SentencePieceModel: SentencePiece's processor behind TokenizerModel and telltale's Status.
#include "input/sentencepiece_tokenizer.hpp"

#include <sentencepiece_processor.h>

#include <type_traits>

#include "input/cached_tokenizer.hpp"
#include "input/sentencepiece_spec.hpp"
#include "input/utf8.hpp"

namespace telltale::input {
namespace {

// SentencePiece speaks std::vector<int>; telltale speaks int32_t. They are the same type on every platform we
// build for, which lets encode() fill the caller's vector directly.
static_assert(std::is_same_v<int, int32_t>, "SentencePiece ids are int; telltale ids are int32_t");

class SentencePieceModel final : public TokenizerModel {
 public:
  SentencePieceModel(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor, std::string path,
                     const std::optional<SentencePieceSpec>& spec)
      : processor_(std::move(processor)), path_(std::move(path)) {
    decide_piece_split(spec);
  }

  Status encode(std::string_view text, std::vector<int32_t>& out) const override {
    try {
      const auto st = processor_->Encode(text, &out);
      if (!st.ok()) return invalid_argument(path_ + ": cannot encode text: " + printable(st.ToString(), 200));
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kNoMemory, path_ + ": out of memory encoding text");
    }
    return Status::ok();
  }

  Result<std::string> decode(std::span<const int32_t> ids) const override {
    try {
      const std::vector<int> as_vector(ids.begin(), ids.end());
      std::string text;
      const auto st = processor_->Decode(as_vector, &text);
      if (!st.ok()) return invalid_argument(path_ + ": cannot decode ids: " + printable(st.ToString(), 200));
      return text;
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kNoMemory, path_ + ": out of memory decoding ids");
    }
  }

  int32_t vocab_size() const override { return processor_->GetPieceSize(); }
  int32_t bos_id() const override { return processor_->bos_id(); }
  int32_t eos_id() const override { return processor_->eos_id(); }
  TokenizerKind kind() const override { return TokenizerKind::kSentencePiece; }
  PieceSplit piece_split() const override { return split_; }
  std::string piece_split_reason() const override { return split_reason_; }

 private:
  // SentencePiece's BPE merges pairs of symbols over the whole normalized text, best score first; no merge crosses
  // "c|▁d" when no piece holds a "▁" after another character, and then each side merges as it would alone. The right
  // side is encoded without its space, which the dummy prefix puts back as "▁". The unigram model is left alone: its
  // Viterbi sums scores in floating point across the whole text, so a tie may break differently in a shorter one.
  void decide_piece_split(const std::optional<SentencePieceSpec>& spec) {
    split_ = PieceSplit::kNone;
    if (!spec) return void(split_reason_ = "the model's settings could not be read");
    if (spec->model_type != 2)
      return void(split_reason_ = "not a BPE model (unigram: see sentencepiece_tokenizer.cpp)");
    if (spec->treat_whitespace_as_suffix) return void(split_reason_ = "spaces end pieces instead of starting them");
    if (!spec->add_dummy_prefix || !spec->escape_whitespaces)
      return void(split_reason_ = "no dummy prefix or no escaped spaces");
    const std::string& name = spec->normalizer_name;
    if (spec->custom_rules ||
        !(name == "identity" || name == "nmt_nfkc" || name == "nfkc" || name == "nmt_nfkc_cf" || name == "nfkc_cf"))
      return void(split_reason_ = "normalizer '" + name + "' not checked for a rule across a space");
    for (int id = 0; id < processor_->GetPieceSize(); ++id) {
      if (joins_word_to_space(processor_->IdToPiece(id)))
        return void(split_reason_ = "piece " + std::to_string(id) + " joins a word to the space after it");
    }
    split_ = PieceSplit::kSpaceBeforeWordDropped;
  }

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string path_;
  PieceSplit split_ = PieceSplit::kNone;
  std::string split_reason_;
};

}  // namespace

Result<std::unique_ptr<const TokenizerModel>> load_sentencepiece_model(const std::string& bytes,
                                                                       const std::string& path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto st = processor->LoadFromSerializedProto(bytes);
  if (!st.ok()) return invalid_argument(path + ": not a SentencePiece model: " + printable(st.ToString(), 200));
  if (processor->GetPieceSize() <= 0) return invalid_argument(path + ": SentencePiece model has no pieces");
  return std::unique_ptr<const TokenizerModel>(
      std::make_unique<SentencePieceModel>(std::move(processor), path, read_sentencepiece_spec(bytes)));
}

}  // namespace telltale::input
