#include "score/detection.hpp"

#include <utility>

namespace telltale::score {

Result<DetectionRun> run_detection(const DetectionSetup& setup, const CorpusScanner::DocumentCallback& on_document,
                                   const CorpusScanner::ProgressCallback& on_progress,
                                   const CorpusScanner::TokensCallback& on_tokens) {
  if (setup.tokenizer == nullptr) return invalid_argument("a detection run needs a tokenizer");
  if (setup.keys.empty()) return invalid_argument("a detection run needs at least one key");
  DetectionRun run;
  std::vector<Detector> detectors;
  for (size_t i = 0; i < setup.keys.size(); ++i) {
    auto d = Detector::create(setup.keys[i], setup.params);
    if (!d) return Status{d.status().code(), "key " + std::to_string(i + 1) + ": " + d.status().message()};
    run.results.emplace_back(analysis_info(*d, setup.keys[i].key_id_hex(), setup.rules, setup.tokenizer->sha256_hex()));
    detectors.push_back(std::move(d).value());
  }
  std::vector<const Detector*> detector_ptrs;
  for (const Detector& d : detectors) detector_ptrs.push_back(&d);

  input::InputOptions in = setup.input;
  in.vocab_size = setup.tokenizer->vocab_size();
  auto source = input::DocumentSource::open(setup.inputs, in);
  if (!source) return source.status();
  auto scanner = CorpusScanner::create(setup.tokenizer, detector_ptrs, setup.rules, setup.scan);
  if (!scanner) return scanner.status();
  TT_RETURN_IF_ERROR(scanner->run(*source, run.results, on_document, on_progress, on_tokens));
  run.skipped = source->skipped_count();
  run.skipped_messages = source->skipped_messages();
  run.files_read = source->files_opened();
  return run;
}

}  // namespace telltale::score
