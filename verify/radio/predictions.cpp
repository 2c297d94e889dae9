// The predictions file: JSON lines, checked field by field so that a bad file is refused with a one-line message
// that names the file, the line and the field, never half-read or read wrongly.
#include "radio/predictions.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "radio/line_reader.hpp"

namespace telltale::radio {
namespace {

using nlohmann::json;

constexpr const char* kMagic = "predictions";  // the header's "telltale" field
constexpr int64_t kVersion = 1;

// An integer JSON value in [lo, hi], else nothing.
bool as_integer(const json& v, int64_t lo, int64_t hi, int64_t& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return false;
    out = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    out = v.get<int64_t>();
  } else {
    return false;
  }
  return out >= lo && out <= hi;
}

Status read_ids(const json& v, const char* field, uint32_t vocab, std::vector<int32_t>& out) {
  if (!v.is_array()) return invalid_argument(std::string("'") + field + "' must be an array of token ids");
  out.clear();
  out.reserve(v.size());
  for (const json& e : v) {
    int64_t id = 0;
    if (!as_integer(e, 0, static_cast<int64_t>(vocab) - 1, id))
      return invalid_argument(std::string("'") + field + "' holds " + e.dump().substr(0, 40) +
                              ", not a token id in [0, " + std::to_string(vocab) + ")");
    out.push_back(static_cast<int32_t>(id));
  }
  return Status::ok();
}

}  // namespace

Result<PredictionsHeader> parse_predictions_header(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid_argument("the first line is not a JSON object (expected the predictions header)");
  if (!j.contains("telltale") || j["telltale"] != kMagic)
    return invalid_argument(std::string("the first line is not a predictions header (\"telltale\": \"") + kMagic +
                            "\" missing)");
  int64_t version = 0;
  if (!j.contains("version") || !as_integer(j["version"], 0, 1 << 30, version))
    return invalid_argument("the header has no integer 'version'");
  if (version != kVersion)
    return unsupported("predictions format version " + std::to_string(version) + " (this build reads version 1)");
  PredictionsHeader h;
  int64_t vocab = 0;
  if (!j.contains("vocab_size") || !as_integer(j["vocab_size"], 1, int64_t{1} << 31, vocab))
    return invalid_argument("the header's 'vocab_size' must be an integer in [1, 2^31]");
  h.vocab_size = static_cast<uint32_t>(vocab);
  if (j.contains("tokenizer_sha256")) {
    const json& t = j["tokenizer_sha256"];
    if (!t.is_string()) return invalid_argument("the header's 'tokenizer_sha256' must be a string");
    h.tokenizer_sha256 = t.get<std::string>();
    const bool hex = h.tokenizer_sha256.size() == 64 &&
                     h.tokenizer_sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!h.tokenizer_sha256.empty() && !hex)
      return invalid_argument("the header's 'tokenizer_sha256' must be 64 lowercase hex digits or empty");
  }
  if (j.contains("suspect")) {
    if (!j["suspect"].is_string()) return invalid_argument("the header's 'suspect' must be a string");
    h.suspect = j["suspect"].get<std::string>();
  }
  return h;
}

Result<PredictionRecord> parse_prediction_record(std::string_view line, uint32_t vocab) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return invalid_argument("not valid JSON");
  if (!j.is_object()) return invalid_argument("a record must be a JSON object");
  PredictionRecord r;
  if (j.contains("doc")) {
    if (!j["doc"].is_string()) return invalid_argument("'doc' must be a string");
    r.doc = j["doc"].get<std::string>();
  }
  for (const char* field : {"ids", "positions", "predicted"})
    if (!j.contains(field)) return invalid_argument(std::string("missing '") + field + "'");
  TT_RETURN_IF_ERROR(read_ids(j["ids"], "ids", vocab, r.ids));

  const json& positions = j["positions"];
  if (!positions.is_array()) return invalid_argument("'positions' must be an array");
  int64_t previous = 0;
  for (const json& e : positions) {
    int64_t p = 0;
    if (!as_integer(e, 1, static_cast<int64_t>(r.ids.size()), p))
      return invalid_argument("'positions' holds " + e.dump().substr(0, 40) + ", not a position in [1, " +
                              std::to_string(r.ids.size()) + "] (the number of ids)");
    if (p <= previous) return invalid_argument("'positions' must be strictly increasing");
    previous = p;
    r.positions.push_back(static_cast<uint32_t>(p));
  }

  const json& predicted = j["predicted"];
  if (!predicted.is_array() || predicted.size() != r.positions.size())
    return invalid_argument("'predicted' must be an array with one list of ids per position");
  r.predicted.resize(r.positions.size());
  for (size_t i = 0; i < predicted.size(); ++i) {
    TT_RETURN_IF_ERROR(read_ids(predicted[i], "predicted", vocab, r.predicted[i]));
    const auto& ids = r.predicted[i];
    if (ids.empty() || ids.size() > kMaxPredictedPerPosition)
      return invalid_argument("each 'predicted' list holds 1 to " + std::to_string(kMaxPredictedPerPosition) + " ids");
    for (size_t a = 0; a < ids.size(); ++a)
      for (size_t b = a + 1; b < ids.size(); ++b)
        if (ids[a] == ids[b]) return invalid_argument("a 'predicted' list repeats id " + std::to_string(ids[a]));
  }

  if (j.contains("logprobs")) {
    const json& lp = j["logprobs"];
    if (!lp.is_array() || lp.size() != r.positions.size())
      return invalid_argument("'logprobs' must be an array with one list per position");
    r.logprobs.resize(lp.size());
    for (size_t i = 0; i < lp.size(); ++i) {
      if (!lp[i].is_array() || lp[i].size() != r.predicted[i].size())
        return invalid_argument("each 'logprobs' list must have one value per predicted id");
      double last = 0;
      for (const json& e : lp[i]) {
        if (!e.is_number()) return invalid_argument("'logprobs' values must be numbers");
        const double v = e.get<double>();
        if (!(v <= 0) || !std::isfinite(v) || v > last)
          return invalid_argument("'logprobs' values must be finite, <= 0 and non-increasing (most likely first)");
        last = v;
        r.logprobs[i].push_back(static_cast<float>(v));
      }
    }
  }
  return r;
}

std::string predictions_header_line(const PredictionsHeader& h) {
  json j = {{"telltale", kMagic}, {"version", kVersion}, {"vocab_size", h.vocab_size}};
  if (!h.tokenizer_sha256.empty()) j["tokenizer_sha256"] = h.tokenizer_sha256;
  if (!h.suspect.empty()) j["suspect"] = h.suspect;
  return j.dump();
}

std::string prediction_record_line(const PredictionRecord& r) {
  json j = json::object();
  if (!r.doc.empty()) j["doc"] = r.doc;
  j["ids"] = r.ids;
  j["positions"] = r.positions;
  j["predicted"] = r.predicted;
  if (!r.logprobs.empty()) j["logprobs"] = r.logprobs;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<PredictionReader> PredictionReader::open(const std::string& path) {
  auto lines = LineReader::open(path, kMaxPredictionLineBytes, "predictions file", "a predictions file");
  if (!lines) return lines.status();
  PredictionReader r(std::move(lines).value());
  std::string_view first;
  auto got = r.lines_.next(first, false);
  if (!got) return got.status();
  if (!*got) return invalid_argument(path + ": empty (expected a predictions header)");
  auto h = parse_predictions_header(first);
  if (!h) return r.lines_.at_line(h.status());
  r.header_ = *h;
  return r;
}

Result<bool> PredictionReader::next(PredictionRecord& out) {
  std::string_view line;
  auto got = lines_.next(line);  // blank lines are allowed
  if (!got) return got.status();
  if (!*got) return false;
  auto r = parse_prediction_record(line, header_.vocab_size);
  if (!r) return lines_.at_line(r.status());
  out = std::move(r).value();
  return true;
}

}  // namespace telltale::radio
