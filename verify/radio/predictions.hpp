// A suspect model's next-token predictions on a token sequence: what any inference engine writes so that telltale
// can test the model for radioactivity (spec/predictions-format.md), and the reader that checks every field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "radio/line_reader.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// The header line of a predictions file.
struct PredictionsHeader {
  uint32_t vocab_size = 0;       // ids in the file are < vocab_size
  std::string tokenizer_sha256;  // of the SentencePiece model that made the ids; "" when unknown
  std::string suspect;           // free text naming the suspect model (recorded in the report)
};

// One sequence the suspect read (or wrote), and its choices at some positions.
//   ids:       the token ids x_0 .. x_{n-1}, in the watermark's tokenizer (no BOS)
//   positions: strictly increasing p in [1, n]; at p the suspect predicted the id that follows x_0 .. x_{p-1}
//   predicted: per position, the suspect's ids, most likely first, distinct (top-1: one id)
//   logprobs:  optional, per position, the natural-log probabilities of those ids (<= 0, non-increasing)
struct PredictionRecord {
  std::string doc;
  std::vector<int32_t> ids;
  std::vector<uint32_t> positions;
  std::vector<std::vector<int32_t>> predicted;
  std::vector<std::vector<float>> logprobs;  // empty, or one list per position
};

// Limits that keep a corrupt file from exhausting memory: a line longer than this is refused.
inline constexpr size_t kMaxPredictionLineBytes = size_t{1} << 28;
inline constexpr size_t kMaxPredictedPerPosition = 64;

// Parses and checks one record line (without its newline); the message says what is wrong, without the file name.
Result<PredictionRecord> parse_prediction_record(std::string_view line, uint32_t vocab_size);
// Parses and checks the header line.
Result<PredictionsHeader> parse_predictions_header(std::string_view line);

// The JSON lines a writer produces (one line each, no newline).
std::string predictions_header_line(const PredictionsHeader& header);
std::string prediction_record_line(const PredictionRecord& record);

// Reads a predictions file record by record; every error names the file and line.
class PredictionReader {
 public:
  static Result<PredictionReader> open(const std::string& path);
  const PredictionsHeader& header() const { return header_; }
  // Reads the next record into `out`: true when one was read, false at the end of the file.
  Result<bool> next(PredictionRecord& out);
  uint64_t line() const { return lines_.line(); }

 private:
  explicit PredictionReader(LineReader lines) : lines_(std::move(lines)) {}
  LineReader lines_;
  PredictionsHeader header_;
};

}  // namespace telltale::radio
