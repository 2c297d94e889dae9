// Partial-result files: a JSON header per analysis (exact doubles as their IEEE-754 bits) followed by fixed-width
// little-endian records, so that merging reproduces the one-pass numbers bit for bit; a SHA-256 of it all at the end.
#include "score/partial_file.hpp"

#include <bit>
#include <cstring>
#include <istream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "input/input_stream.hpp"
#include "telltale/new_file.hpp"

namespace telltale::score {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'P', 'A', 'R', 'T', '2', '\n'};
// The first format, without a checksum: refused, the shard is scored again.
constexpr char kOldMagic[8] = {'T', 'T', 'P', 'A', 'R', 'T', '1', '\n'};
constexpr char kTrailer[8] = {'T', 'T', 'E', 'N', 'D', '\n', 0, 0};
// More than any corpus: a guard against reading a corrupt count as a huge allocation.
constexpr uint64_t kMaxRecords = uint64_t{1} << 40;
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 20;

static_assert(std::endian::native == std::endian::little, "partial files are written little-endian");

uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }
double from_bits(uint64_t b) { return std::bit_cast<double>(b); }

// Every byte written goes into the checksum too.
class Writer {
 public:
  Writer(std::ostream& out, FileChecksum& sum) : out_(out), sum_(sum) {}
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void u32(uint32_t v) { bytes(&v, sizeof v); }
  void bytes(const void* p, size_t n) {
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    sum_.update(p, n);
  }

 private:
  std::ostream& out_;
  FileChecksum& sum_;
};

// Every byte read goes into the checksum too.
class Reader {
 public:
  Reader(std::istream& in, FileChecksum& sum) : in_(in), sum_(sum) {}
  bool u64(uint64_t& v) { return read(&v, sizeof v); }
  bool u32(uint32_t& v) { return read(&v, sizeof v); }
  bool read(void* p, size_t n) {
    in_.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    const auto got = static_cast<size_t>(in_.gcount());
    sum_.update(p, got);
    return got == n;
  }

 private:
  std::istream& in_;
  FileChecksum& sum_;
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
      {"window",
       {w.start, w.length, bits(w.statistic), bits(w.log_p), bits(w.log_p_corrected), w.windows_tried,
        w.lengths_tried}},
  };
}

// An unsigned integer field. Checked first: nlohmann's get<> of a float into an integer is undefined behaviour.
uint64_t u64(const nlohmann::json& j) {
  if (!j.is_number_unsigned()) throw std::invalid_argument("a field is not an unsigned integer");
  return j.get<uint64_t>();
}
uint32_t u32(const nlohmann::json& j) {
  const uint64_t v = u64(j);
  if (v > UINT32_MAX) throw std::invalid_argument("a field is out of range");
  return static_cast<uint32_t>(v);
}

Status parse_header(const nlohmann::json& j, AnalysisInfo& info, PartialResult::State& s) {
  try {
    info.key_id = j.at("key_id").get<std::string>();
    info.configuration = j.at("configuration").get<std::string>();
    const uint64_t kind = u64(j.at("null_kind"));
    if (kind > 3) return invalid_argument("unknown null distribution");
    info.null.kind = static_cast<NullKind>(kind);
    info.null.p = from_bits(u64(j.at("null_p_bits")));
    info.null.layers = u32(j.at("null_layers"));
    if (info.null.layers < 1 || info.null.layers > 32) return invalid_argument("null_layers must be in [1, 32]");
    info.window_size = u32(j.at("window_size"));
    info.rules.dedup = j.at("dedup").get<bool>();
    info.rules.window_min = u64(j.at("window_min"));
    info.rules.window_ratio = from_bits(u64(j.at("window_ratio_bits")));
    info.tokenizer_sha256 = j.at("tokenizer_sha256").get<std::string>();
    s.documents = u64(j.at("documents"));
    s.skipped_bad = u64(j.at("skipped_bad"));
    s.tokens = u64(j.at("tokens"));
    s.prompt_tokens = u64(j.at("prompt_tokens"));
    s.no_context = u64(j.at("no_context"));
    s.duplicates_in_documents = u64(j.at("duplicates_in_documents"));
    s.local_tuples = u64(j.at("local_tuples"));
    s.raw.scored = u64(j.at("raw_scored"));
    const auto& sum = j.at("raw_sum");
    s.raw.sum = ExactSum::from_parts(u64(sum.at(0)), u64(sum.at(1)));
    s.window_documents = u64(j.at("window_documents"));
    s.window_doc = u64(j.at("window_doc"));
    const auto& w = j.at("window");
    s.window.start = u64(w.at(0));
    s.window.length = u64(w.at(1));
    s.window.statistic = from_bits(u64(w.at(2)));
    s.window.log_p = from_bits(u64(w.at(3)));
    s.window.log_p_corrected = from_bits(u64(w.at(4)));
    s.window.windows_tried = u64(w.at(5));
    s.window.lengths_tried = u64(w.at(6));
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("bad header: ") + e.what());
  } catch (const std::invalid_argument& e) {
    return invalid_argument(std::string("bad header: ") + e.what());
  }
  return Status::ok();
}

}  // namespace

Result<NewFile> stage_partial_file(const std::string& path, std::vector<PartialResult>& results) {
  auto file = NewFile::create(path, FileAccess::kShared);
  if (!file) return file.status();
  TT_RETURN_IF_ERROR(write_partial_stream(file->stream(), results));
  TT_RETURN_IF_ERROR(file->flush());  // a lost write is reported now; the temporary file goes with `file`
  return file;
}

Status write_partial_file(const std::string& path, std::vector<PartialResult>& results) {
  auto file = stage_partial_file(path, results);
  if (!file) return file.status();
  return file->commit();
}

Status write_partial_stream(std::ostream& out, std::vector<PartialResult>& results) {
  FileChecksum sum;
  Writer w(out, sum);
  w.bytes(kMagic, sizeof kMagic);
  w.u32(static_cast<uint32_t>(results.size()));
  for (PartialResult& r : results) {
    const PartialResult::State& s = r.state();
    const std::string header = header_json(r.info(), s).dump();
    w.u64(header.size());
    w.bytes(header.data(), header.size());
    w.u64(s.doc_tallies.size());
    for (const Tally& t : s.doc_tallies) {
      const uint64_t record[3] = {t.scored, t.sum.low(), t.sum.high()};
      w.bytes(record, sizeof record);
    }
    // Two passes over the tuples (merged back from disk when they were spilled): the count comes first.
    uint64_t count = 0;
    TT_RETURN_IF_ERROR(r.visit_entries([&count](const TupleEntry&) { ++count; }));
    w.u64(count);
    TT_RETURN_IF_ERROR(r.visit_entries([&w](const TupleEntry& e) {
      const uint64_t record[3] = {e.hash, e.doc, bits(e.score)};
      w.bytes(record, sizeof record);
    }));
  }
  w.bytes(kTrailer, sizeof kTrailer);
  auto digest = sum.digest();
  if (!digest) return digest.status();
  out.write(reinterpret_cast<const char*>(digest->data()), static_cast<std::streamsize>(digest->size()));
  return Status::ok();
}

Result<std::vector<PartialResult>> read_partial_file(const std::string& path) {
  // A regular file only (a FIFO must not block the merge), and never a key file (its bytes must not be quoted).
  auto in = input::open_input_stream(path, "partial result", "a telltale partial result");
  if (!in) return in.status();
  return read_partial_stream(**in, path);
}

Status PartialReader::bad(const std::string& what) const {
  return invalid_argument(name_ + ": not a telltale partial result (" + what + ")");
}

Result<PartialReader> PartialReader::open(std::istream& in, std::string name) {
  PartialReader p(in, std::move(name));
  Reader r(in, p.checksum_);
  char magic[8];
  const bool got_magic = r.read(magic, sizeof magic);
  if (got_magic && std::memcmp(magic, kOldMagic, sizeof magic) == 0) {
    return unsupported(p.name_ + ": old partial-result format TTPART1 (no checksum); re-run detect --emit-partial");
  }
  if (!got_magic || std::memcmp(magic, kMagic, sizeof magic) != 0) return p.bad("bad magic");
  if (!r.u32(p.analyses_) || p.analyses_ == 0 || p.analyses_ > 1024) return p.bad("bad analysis count");
  return p;
}

Status PartialReader::next_analysis(AnalysisInfo& info, PartialResult::State& counters) {
  if (tallies_left_ != 0 || entries_left_ != 0 || (read_analyses_ > 0 && !entries_counted_))
    return Status(StatusCode::kState, name_ + ": the previous analysis was not read to its end");
  if (read_analyses_ == analyses_) return Status(StatusCode::kState, name_ + ": no more analyses");
  Reader r(*in_, checksum_);
  uint64_t len = 0;
  if (!r.u64(len) || len > kMaxHeaderBytes) return bad("bad header size");
  std::string header(len, '\0');
  if (!r.read(header.data(), len)) return bad("truncated header");
  const auto j = nlohmann::json::parse(header, nullptr, false);
  if (j.is_discarded()) return bad("header is not JSON");
  info = AnalysisInfo{};
  counters = PartialResult::State{};
  if (Status st = parse_header(j, info, counters); !st.is_ok()) return bad(st.message());
  if (counters.documents > kMaxRecords) return bad("bad document count");
  if (!r.u64(tallies_left_) || tallies_left_ != (info.rules.dedup ? 0 : counters.documents))
    return bad("bad number of document tallies");
  dedup_ = info.rules.dedup;
  documents_ = counters.documents;
  raw_ = counters.raw;
  tallies_sum_ = {};
  entries_counted_ = false;
  has_last_ = false;
  ++read_analyses_;
  if (tallies_left_ == 0) return count_entries();
  return Status::ok();
}

Status PartialReader::count_entries() {
  if (!dedup_ && !(tallies_sum_ == raw_)) return bad("document tallies do not add up to the total");
  Reader r(*in_, checksum_);
  if (!r.u64(entries_left_) || entries_left_ > kMaxRecords || (!dedup_ && entries_left_ != 0))
    return bad("bad tuple count");
  entries_counted_ = true;
  return Status::ok();
}

Result<bool> PartialReader::read_tally(Tally& t) {
  if (tallies_left_ == 0) return false;
  Reader r(*in_, checksum_);
  uint64_t record[3];  // scored, sum low, sum high: one read, one checksum update
  if (!r.read(record, sizeof record)) return bad("truncated document tallies");
  t.scored = record[0];
  t.sum = ExactSum::from_parts(record[1], record[2]);
  tallies_sum_.add(t);
  if (--tallies_left_ == 0) TT_RETURN_IF_ERROR(count_entries());
  return true;
}

Result<bool> PartialReader::read_entry(TupleEntry& e) {
  if (!entries_counted_ || entries_left_ == 0) return false;
  Reader r(*in_, checksum_);
  uint64_t record[3];  // fingerprint, document, score bits: one read, one checksum update
  if (!r.read(record, sizeof record)) return bad("truncated tuples");
  e.hash = record[0];
  e.doc = record[1];
  e.score = from_bits(record[2]);
  if (e.doc >= documents_) return bad("tuple of an unknown document");
  if (!(e.score >= 0 && e.score < 0x1p36)) return bad("tuple score out of range");
  if (has_last_ && !(last_hash_ < e.hash)) return bad("tuples not sorted");
  has_last_ = true;
  last_hash_ = e.hash;
  --entries_left_;
  return true;
}

Status PartialReader::finish() {
  if (read_analyses_ != analyses_ || tallies_left_ != 0 || entries_left_ != 0 || !entries_counted_)
    return Status(StatusCode::kState, name_ + ": not read to its end");
  Reader r(*in_, checksum_);
  char trailer[8];
  if (!r.read(trailer, sizeof trailer) || std::memcmp(trailer, kTrailer, sizeof trailer) != 0) return bad("truncated");
  auto want = checksum_.digest();
  if (!want) return want.status();
  FileChecksum::Digest stored{};
  in_->read(reinterpret_cast<char*>(stored.data()), static_cast<std::streamsize>(stored.size()));
  if (static_cast<size_t>(in_->gcount()) != stored.size()) return bad("truncated: no checksum");
  if (stored != *want) {
    return invalid_argument(name_ + ": damaged partial result (its SHA-256 checksum does not match its bytes)");
  }
  if (in_->peek() != std::char_traits<char>::eof()) return bad("bytes after the checksum");
  return Status::ok();
}

Result<std::vector<PartialResult>> read_partial_stream(std::istream& in, const std::string& name) {
  auto reader = PartialReader::open(in, name);
  if (!reader) return reader.status();
  std::vector<PartialResult> out;
  for (uint32_t a = 0; a < reader->analyses(); ++a) {
    AnalysisInfo info;
    PartialResult::State s;
    TT_RETURN_IF_ERROR(reader->next_analysis(info, s));
    Tally t;
    for (;;) {
      auto got = reader->read_tally(t);
      if (!got) return got.status();
      if (!*got) break;
      s.doc_tallies.push_back(t);
    }
    TupleEntry e;
    for (;;) {
      auto got = reader->read_entry(e);
      if (!got) return got.status();
      if (!*got) break;
      s.entries.push_back(e);
    }
    out.push_back(PartialResult::from_state(std::move(info), std::move(s)));
  }
  TT_RETURN_IF_ERROR(reader->finish());
  return out;
}

}  // namespace telltale::score
