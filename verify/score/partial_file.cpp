// Partial-result files: a JSON header per analysis (exact doubles as their IEEE-754 bits) followed by fixed-width
// little-endian records, so that merging reproduces the one-pass numbers bit for bit.
#include "score/partial_file.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace telltale::score {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'P', 'A', 'R', 'T', '1', '\n'};
constexpr char kTrailer[8] = {'T', 'T', 'E', 'N', 'D', '\n', 0, 0};
// More than any corpus: a guard against reading a corrupt count as a huge allocation.
constexpr uint64_t kMaxRecords = uint64_t{1} << 40;
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 20;

static_assert(std::endian::native == std::endian::little, "partial files are written little-endian");

uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }
double from_bits(uint64_t b) { return std::bit_cast<double>(b); }

class Writer {
 public:
  explicit Writer(std::ofstream& out) : out_(out) {}
  void u64(uint64_t v) { out_.write(reinterpret_cast<const char*>(&v), sizeof v); }
  void u32(uint32_t v) { out_.write(reinterpret_cast<const char*>(&v), sizeof v); }
  void bytes(const void* p, size_t n) { out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); }

 private:
  std::ofstream& out_;
};

class Reader {
 public:
  explicit Reader(std::ifstream& in) : in_(in) {}
  bool u64(uint64_t& v) { return read(&v, sizeof v); }
  bool u32(uint32_t& v) { return read(&v, sizeof v); }
  bool read(void* p, size_t n) {
    in_.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    return static_cast<size_t>(in_.gcount()) == n;
  }

 private:
  std::ifstream& in_;
};

nlohmann::json header_json(const AnalysisInfo& info, const PartialResult::State& s) {
  const stats::WindowMatch& w = s.window;
  return {
      {"key_id", info.key_id},
      {"configuration", info.configuration},
      {"null_kind", static_cast<int>(info.null.kind)},
      {"null_p_bits", bits(info.null.p)},
      {"null_layers", info.null.layers},
      {"window_size", info.window_size},
      {"dedup", info.rules.dedup},
      {"window_min", info.rules.window_min},
      {"window_ratio_bits", bits(info.rules.window_ratio)},
      {"tokenizer_sha256", info.tokenizer_sha256},
      {"documents", s.documents},
      {"skipped_bad", s.skipped_bad},
      {"tokens", s.tokens},
      {"prompt_tokens", s.prompt_tokens},
      {"no_context", s.no_context},
      {"duplicates_in_documents", s.duplicates_in_documents},
      {"local_tuples", s.local_tuples},
      {"raw_scored", s.raw.scored},
      {"raw_sum", {s.raw.sum.low(), s.raw.sum.high()}},
      {"window_documents", s.window_documents},
      {"window_doc", s.window_doc},
      {"window", {w.start, w.length, bits(w.statistic), bits(w.log_p), bits(w.log_p_corrected), w.windows_tried,
                  w.lengths_tried}},
  };
}

Status parse_header(const nlohmann::json& j, AnalysisInfo& info, PartialResult::State& s) {
  try {
    info.key_id = j.at("key_id").get<std::string>();
    info.configuration = j.at("configuration").get<std::string>();
    const int kind = j.at("null_kind").get<int>();
    if (kind < 0 || kind > 2) return invalid_argument("unknown null distribution");
    info.null.kind = static_cast<NullKind>(kind);
    info.null.p = from_bits(j.at("null_p_bits").get<uint64_t>());
    info.null.layers = j.at("null_layers").get<uint32_t>();
    info.window_size = j.at("window_size").get<uint32_t>();
    info.rules.dedup = j.at("dedup").get<bool>();
    info.rules.window_min = j.at("window_min").get<uint64_t>();
    info.rules.window_ratio = from_bits(j.at("window_ratio_bits").get<uint64_t>());
    info.tokenizer_sha256 = j.at("tokenizer_sha256").get<std::string>();
    s.documents = j.at("documents").get<uint64_t>();
    s.skipped_bad = j.at("skipped_bad").get<uint64_t>();
    s.tokens = j.at("tokens").get<uint64_t>();
    s.prompt_tokens = j.at("prompt_tokens").get<uint64_t>();
    s.no_context = j.at("no_context").get<uint64_t>();
    s.duplicates_in_documents = j.at("duplicates_in_documents").get<uint64_t>();
    s.local_tuples = j.at("local_tuples").get<uint64_t>();
    s.raw.scored = j.at("raw_scored").get<uint64_t>();
    const auto& sum = j.at("raw_sum");
    s.raw.sum = ExactSum::from_parts(sum.at(0).get<uint64_t>(), sum.at(1).get<uint64_t>());
    s.window_documents = j.at("window_documents").get<uint64_t>();
    s.window_doc = j.at("window_doc").get<uint64_t>();
    const auto& w = j.at("window");
    s.window.start = w.at(0).get<uint64_t>();
    s.window.length = w.at(1).get<uint64_t>();
    s.window.statistic = from_bits(w.at(2).get<uint64_t>());
    s.window.log_p = from_bits(w.at(3).get<uint64_t>());
    s.window.log_p_corrected = from_bits(w.at(4).get<uint64_t>());
    s.window.windows_tried = w.at(5).get<uint64_t>();
    s.window.lengths_tried = w.at(6).get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("bad header: ") + e.what());
  }
  return Status::ok();
}

}  // namespace

Status write_partial_file(const std::string& path, std::vector<PartialResult>& results) {
  {
    std::ifstream probe(path);
    if (probe.good()) return io_error(path + ": exists; a partial result is never overwritten");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return io_error(path + ": cannot create the file");
  Writer w(out);
  w.bytes(kMagic, sizeof kMagic);
  w.u32(static_cast<uint32_t>(results.size()));
  for (PartialResult& r : results) {
    const PartialResult::State& s = r.state();
    const std::string header = header_json(r.info(), s).dump();
    w.u64(header.size());
    w.bytes(header.data(), header.size());
    w.u64(s.doc_tallies.size());
    for (const Tally& t : s.doc_tallies) {
      w.u64(t.scored);
      w.u64(t.sum.low());
      w.u64(t.sum.high());
    }
    w.u64(s.entries.size());
    for (const TupleEntry& e : s.entries) {
      w.u64(e.hash);
      w.u64(e.doc);
      w.u64(bits(e.score));
    }
  }
  w.bytes(kTrailer, sizeof kTrailer);
  out.flush();
  if (!out) return io_error(path + ": write failed");
  return Status::ok();
}

Result<std::vector<PartialResult>> read_partial_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open the partial result");
  Reader r(in);
  auto bad = [&path](const std::string& what) { return invalid_argument(path + ": not a telltale partial result (" + what + ")"); };
  char magic[8];
  if (!r.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0) return bad("bad magic");
  uint32_t count = 0;
  if (!r.u32(count) || count == 0 || count > 1024) return bad("bad analysis count");
  std::vector<PartialResult> out;
  for (uint32_t a = 0; a < count; ++a) {
    uint64_t len = 0;
    if (!r.u64(len) || len > kMaxHeaderBytes) return bad("bad header size");
    std::string header(len, '\0');
    if (!r.read(header.data(), len)) return bad("truncated header");
    const auto j = nlohmann::json::parse(header, nullptr, false);
    if (j.is_discarded()) return bad("header is not JSON");
    AnalysisInfo info;
    PartialResult::State s;
    if (Status st = parse_header(j, info, s); !st.is_ok()) return bad(st.message());
    uint64_t n = 0;
    if (!r.u64(n) || n > kMaxRecords) return bad("bad document count");
    s.doc_tallies.resize(n);
    for (Tally& t : s.doc_tallies) {
      uint64_t lo = 0;
      uint64_t hi = 0;
      if (!r.u64(t.scored) || !r.u64(lo) || !r.u64(hi)) return bad("truncated document tallies");
      t.sum = ExactSum::from_parts(lo, hi);
    }
    if (!r.u64(n) || n > kMaxRecords) return bad("bad tuple count");
    s.entries.resize(n);
    for (size_t i = 0; i < n; ++i) {
      TupleEntry& e = s.entries[i];
      uint64_t score = 0;
      if (!r.u64(e.hash) || !r.u64(e.doc) || !r.u64(score)) return bad("truncated tuples");
      e.score = from_bits(score);
      if (e.doc >= s.documents) return bad("tuple of an unknown document");
      if (i > 0 && !(s.entries[i - 1].hash < e.hash)) return bad("tuples not sorted");
    }
    out.push_back(PartialResult::from_state(std::move(info), std::move(s)));
  }
  char trailer[8];
  if (!r.read(trailer, sizeof trailer) || std::memcmp(trailer, kTrailer, sizeof trailer) != 0) return bad("truncated");
  return out;
}

}  // namespace telltale::score
