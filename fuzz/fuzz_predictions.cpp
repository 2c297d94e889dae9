// Fuzzes the radioactivity readers of text: the predictions header and records (spec/predictions-format.md) and the
// closed-model answer log. The first line is read as a header, every later line as a record and as an answer. A line
// either fails with a message, or parses into a record that satisfies the format's rules and writes back to a line
// that parses to the same record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "radio/answer_log.hpp"
#include "radio/predictions.hpp"

namespace {

using namespace telltale::radio;

void check_record(const PredictionRecord& r, uint32_t vocab) {
  FUZZ_CHECK(r.positions.size() == r.predicted.size());
  FUZZ_CHECK(r.logprobs.empty() || r.logprobs.size() == r.positions.size());
  uint32_t last = 0;
  for (size_t i = 0; i < r.positions.size(); ++i) {
    FUZZ_CHECK(r.positions[i] > last && r.positions[i] <= r.ids.size());
    last = r.positions[i];
    FUZZ_CHECK(!r.predicted[i].empty() && r.predicted[i].size() <= kMaxPredictedPerPosition);
    for (const int32_t id : r.predicted[i]) FUZZ_CHECK(id >= 0 && static_cast<uint32_t>(id) < vocab);
    if (!r.logprobs.empty()) FUZZ_CHECK(r.logprobs[i].size() == r.predicted[i].size());
  }
  for (const int32_t id : r.ids) FUZZ_CHECK(id >= 0 && static_cast<uint32_t>(id) < vocab);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  uint32_t vocab = 512;
  size_t at = 0;
  bool first = true;
  while (at <= all.size()) {
    size_t end = all.find('\n', at);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(at, end - at);
    at = end + 1;
    if (first) {
      first = false;
      auto h = parse_predictions_header(line);
      if (h.is_ok()) {
        FUZZ_CHECK(h->vocab_size >= 1);
        auto again = parse_predictions_header(predictions_header_line(*h));
        FUZZ_CHECK(again.is_ok() && again->vocab_size == h->vocab_size && again->suspect == h->suspect &&
                   again->tokenizer_sha256 == h->tokenizer_sha256);
        vocab = h->vocab_size;
      } else {
        FUZZ_CHECK(!h.status().message().empty());
      }
      continue;
    }
    auto r = parse_prediction_record(line, vocab);
    if (r.is_ok()) {
      check_record(*r, vocab);
      auto again = parse_prediction_record(prediction_record_line(*r), vocab);
      FUZZ_CHECK(again.is_ok());
      FUZZ_CHECK(again->ids == r->ids && again->positions == r->positions && again->predicted == r->predicted &&
                 again->logprobs == r->logprobs);
    } else {
      FUZZ_CHECK(!r.status().message().empty() && r.status().message().find('\n') == std::string::npos);
    }
    auto a = parse_answer_line(line);
    if (!a.is_ok()) FUZZ_CHECK(!a.status().message().empty());
    // The scorer's ordering pass skims what the full reader reads: the same answers, with the same indexes.
    auto k = skim_answer_line(line);
    if (a.is_ok()) {
      FUZZ_CHECK(k.is_ok() && k->answer == a->has_value());
      if (a->has_value()) FUZZ_CHECK(k->index == (*a)->index);
    } else if (!k.is_ok()) {
      FUZZ_CHECK(!k.status().message().empty());
    }
  }
  return 0;
}
