// The scanning pipeline: the source is read on the calling thread in batches; each batch is tokenized and scored by
// the worker threads (document i of a batch by whichever thread takes it), then delivered in input order.
#include "score/corpus_scanner.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "score/document_ids.hpp"

namespace telltale::score {

namespace {

// One document of a batch and what became of it.
struct Slot {
  input::Document doc;
  std::vector<int32_t> ids;
  size_t prompt = 0;                  // leading ids that are the known prompt
  std::vector<DocumentScore> scores;  // one per analysis
  Status status;
};

// A thread's own scorers (a Detector is single-threaded).
struct Worker {
  std::vector<DocumentScorer> scorers;
};

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

struct CorpusScanner::Impl {
  const input::Tokenizer* tokenizer = nullptr;
  ScanOptions options;
  std::vector<Worker> workers;
  std::vector<int32_t> prompt_ids;
  std::vector<Slot> batch;

  void process(Worker& w, Slot& slot) const {
    const input::Document& d = slot.doc;
    slot.status = document_ids(d, tokenizer, slot.ids);
    if (!slot.status.is_ok()) return;
    size_t prompt = 0;
    if (d.pretokenized) {
      if (!prompt_ids.empty() && common_prefix(slot.ids, prompt_ids) == prompt_ids.size()) prompt = prompt_ids.size();
    } else if (!prompt_ids.empty() && d.text.starts_with(options.prompt)) {
      prompt = common_prefix(slot.ids, prompt_ids);
    }
    slot.prompt = prompt;
    slot.scores.resize(w.scorers.size());
    for (size_t a = 0; a < w.scorers.size(); ++a) w.scorers[a].score(slot.ids, prompt, slot.scores[a]);
  }

  void process_batch(size_t count) {
    if (workers.size() == 1 || count < 2) {
      for (size_t i = 0; i < count; ++i) process(workers[0], batch[i]);
      return;
    }
    std::atomic<size_t> next{0};
    auto body = [&](Worker& w) {
      for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) process(w, batch[i]);
    };
    std::vector<std::thread> threads;
    const size_t n = std::min(workers.size(), count);
    threads.reserve(n - 1);
    for (size_t t = 1; t < n; ++t) threads.emplace_back(body, std::ref(workers[t]));
    body(workers[0]);
    for (auto& t : threads) t.join();
  }
};

CorpusScanner::CorpusScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CorpusScanner::CorpusScanner(CorpusScanner&&) noexcept = default;
CorpusScanner& CorpusScanner::operator=(CorpusScanner&&) noexcept = default;
CorpusScanner::~CorpusScanner() = default;

Result<CorpusScanner> CorpusScanner::create(const input::Tokenizer* tokenizer,
                                            std::span<const Detector* const> detectors, const ScoringRules& rules,
                                            const ScanOptions& options) {
  if (detectors.empty()) return invalid_argument("no detector to scan with");
  if (options.threads < 1) return invalid_argument("threads must be >= 1");
  if (options.batch_documents < 1) return invalid_argument("batch_documents must be >= 1");
  auto impl = std::make_unique<Impl>();
  impl->tokenizer = tokenizer;
  impl->options = options;
  if (!options.prompt.empty()) {
    if (tokenizer == nullptr) return invalid_argument("a prompt needs a tokenizer");
    TT_RETURN_IF_ERROR(tokenizer->encode(options.prompt, impl->prompt_ids));
  }
  impl->workers.resize(options.threads);
  for (Worker& w : impl->workers) {
    for (const Detector* d : detectors) {
      auto scorer = DocumentScorer::create(*d, rules);
      if (!scorer) return scorer.status();
      w.scorers.push_back(std::move(scorer).value());
    }
  }
  impl->batch.resize(options.batch_documents);
  return CorpusScanner(std::move(impl));
}

Status CorpusScanner::run(input::DocumentSource& source, std::span<PartialResult> results,
                          const DocumentCallback& on_document, const ProgressCallback& on_progress,
                          const TokensCallback& on_tokens) {
  Impl& im = *impl_;
  if (results.size() != im.workers[0].scorers.size()) return invalid_argument("one partial result per detector");
  for (PartialResult& r : results) {
    r.set_threads(static_cast<unsigned>(im.workers.size()));
    if (im.options.memory_limit > 0) r.set_memory_limit(im.options.memory_limit, im.options.spill_dir);
  }
  ScanProgress progress;
  uint64_t skipped_before = source.skipped_count();
  for (bool more = true; more;) {
    size_t count = 0;
    size_t bytes = 0;
    while (count < im.batch.size() && bytes < im.options.batch_bytes) {
      Slot& slot = im.batch[count];
      slot.status = Status::ok();
      auto got = source.next(slot.doc);
      if (!got) return got.status();
      if (!*got) {
        more = false;
        break;
      }
      bytes += slot.doc.text.size() + 4 * slot.doc.ids.size();
      ++count;
    }
    im.process_batch(count);
    for (size_t i = 0; i < count; ++i) {
      Slot& slot = im.batch[i];
      if (!slot.status.is_ok()) return slot.status;
      if (on_tokens) on_tokens(slot.doc, slot.ids, slot.prompt);
      if (on_document) on_document(slot.doc, slot.scores);
      for (size_t a = 0; a < results.size(); ++a) results[a].add_document(slot.scores[a]);
      progress.tokens += slot.ids.size();
    }
    progress.documents += count;
    progress.bytes = source.bytes_read();
    const uint64_t skipped = source.skipped_count();
    for (PartialResult& r : results) {
      r.add_skipped(skipped - skipped_before);
      if (!r.spill_error().is_ok()) return r.spill_error();
    }
    skipped_before = skipped;
    if (on_progress) on_progress(progress);
  }
  return Status::ok();
}

AnalysisInfo analysis_info(const Detector& detector, const std::string& key_id, const ScoringRules& rules,
                           const std::string& tokenizer_sha256) {
  AnalysisInfo info;
  info.key_id = key_id;
  info.configuration = describe(detector.params());
  info.null = detector.null_model();
  info.window_size = detector.window_size();
  info.rules = rules;
  info.tokenizer_sha256 = tokenizer_sha256;
  return info;
}

}  // namespace telltale::score
