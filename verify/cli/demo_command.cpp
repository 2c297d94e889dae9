// `telltale demo`: the whole story in a few seconds. Makes (or reads) a key, watermarks a few stories with the
// reference model, writes their unwatermarked twins, hides a watermarked paragraph inside Jane Austen, and runs the
// verifier on everything, printing one verdict per text.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "generator.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "numeric_flags.hpp"
#include "score/corpus_scanner.hpp"
#include "score/verdict.hpp"
#include "telltale/new_file.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::cli {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string model = TELLTALE_SHARED_DIR "/models/stories260K/stories260K.bin";
  std::string tokenizer = TELLTALE_SHARED_DIR "/models/stories260K/tok512.model";
  std::string human = TELLTALE_SHARED_DIR "/corpora/austen_6novels.txt";
  std::string key;
  std::string out;
  int tokens = 200;
  uint64_t seed = 1;
  double alpha = 1e-6;
  SchemeOptions scheme;
};

struct DemoText {
  std::string name;
  std::string text;
  std::string prompt;  // known prompt, skipped by the verifier ("" for none)
  bool watermarked_part = false;
};

// A stretch of human prose: whole paragraphs from `path` starting near `offset`, about `bytes` long.
Result<std::string> human_text(const std::string& path, size_t offset, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open the human corpus");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  const size_t start = all.find("\n\n", std::min(offset, all.size()));
  if (start == std::string::npos) return invalid_argument(path + ": too short for the demo");
  size_t end = all.find("\n\n", std::min(start + bytes, all.size()));
  if (end == std::string::npos) end = all.size();
  return all.substr(start + 2, end - start - 2);
}

Result<std::string> make_key(const DemoOptions& o, std::string& key_path, std::string& temp_dir) {
  if (!o.key.empty()) {
    key_path = o.key;
    return std::string("given");
  }
  std::string dir;
  if (!o.out.empty()) {
    dir = o.out;
  } else {
    std::string pattern = (fs::temp_directory_path() / "telltale-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return io_error("cannot create a temporary directory");
    dir = temp_dir = pattern;
  }
  key_path = (fs::path(dir) / "demo.key").string();
  auto keys = KeyRing::generate();
  if (!keys) return keys.status();
  TT_RETURN_IF_ERROR(write_key_file(*keys, key_path));
  return std::string("new");
}

// The stories' prompts; story i uses seed --seed + i.
const std::vector<std::string> kStoryPrompts = {"Once upon a time", "One day, a little girl named Lily",
                                                "Tom and his dog went to the park"};

int run_demo(const DemoOptions& o) {
  if (Status s = check_seed_span(o.seed, kStoryPrompts.size()); !s.is_ok()) return fail(s);
  if (!o.out.empty()) {
    std::error_code ec;
    fs::create_directories(fs::path(o.out) / "texts", ec);
    if (ec) return fail(o.out + ": cannot create the output directory: " + ec.message());
  }
  auto tokenizer = input::Tokenizer::load(o.tokenizer);
  if (!tokenizer) return fail(tokenizer.status());
  auto model = refmodel::Llama2cModel::load(o.model);
  if (!model) return fail(model.status());
  if (model->vocab_size() != tokenizer->vocab_size()) return fail(o.model + ": the model and tokenizer disagree");
  auto params = scheme_params(o.scheme, static_cast<uint32_t>(tokenizer->vocab_size()));
  if (!params) return fail(params.status());
  std::string key_path;
  std::string temp_dir;
  auto made = make_key(o, key_path, temp_dir);
  if (!made) return fail(made.status());
  auto keys = read_key_file(key_path);
  if (!keys) return fail(keys.status());
  auto hook = Hook::create(*keys, *params);
  if (!hook) return fail(hook.status());
  auto detector = Detector::create(*keys, *params);
  if (!detector) return fail(detector.status());
  std::printf("key %s (%s, id %.16s...), %s\n", key_path.c_str(), made->c_str(), keys->key_id_hex().c_str(),
              describe(*params).c_str());

  // Texts: watermarked stories, their unwatermarked twins (same seeds), human prose, and human prose with one
  // watermarked story pasted in the middle.
  const std::vector<std::string>& prompts = kStoryPrompts;
  std::vector<DemoText> texts;
  refmodel::Generator generator(*model);
  std::string pasted;
  for (int watermark = 1; watermark >= 0; --watermark) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      std::vector<int32_t> prompt;
      if (Status s = tokenizer->encode(prompts[i], prompt); !s.is_ok()) return fail(s);
      refmodel::GenerationOptions gen;
      gen.max_new_tokens = o.tokens;
      gen.seed = o.seed + i;
      gen.top_p = 1.0f;  // the whole distribution: this tiny model's nucleus leaves little entropy to watermark
      std::optional<SeqState> seq;
      if (watermark) {
        auto s = hook->new_sequence(0, gen.seed);
        if (!s) return fail(s.status());
        seq.emplace(std::move(s).value());
      }
      auto g = generator.run(prompt, watermark ? &*hook : nullptr, seq ? &*seq : nullptr, gen);
      if (!g) return fail(g.status());
      std::vector<int32_t> all = g->prompt;
      all.insert(all.end(), g->tokens.begin(), g->tokens.end());
      auto text = tokenizer->decode(all);
      if (!text) return fail(text.status());
      texts.push_back({(watermark ? "watermarked story " : "plain story ") + std::to_string(i + 1), *text, prompts[i],
                       watermark == 1});
      if (watermark && i < 2) {  // the passage hidden in human text: the completions of stories 1 and 2
        auto completion = tokenizer->decode(g->tokens);
        if (!completion) return fail(completion.status());
        pasted += *completion + "\n\n";
      }
    }
  }
  auto human = human_text(o.human, 1200000, 2000);
  if (!human) return fail(human.status());
  const size_t cut = human->find("\n\n", human->size() / 2);
  const size_t at = cut == std::string::npos ? human->size() : cut;
  texts.push_back({"Austen", *human, "", false});
  texts.push_back({"Austen + stories 1-2", human->substr(0, at) + "\n\n" + pasted + human->substr(at + 2), "", true});

  score::ScoringRules rules;
  // The window search has no exact tail for the weighted-mean score (DocumentScorer refuses it): whole texts only.
  const bool window_search = detector->null_model().kind != NullKind::kWeightedBits;
  rules.window_min = window_search ? 32 : 0;
  const char* column = score_column(*params);
  std::printf("\n%-26s %7s %7s %11s %11s  verdict at alpha %g\n", "text", "tokens", column, "p (whole)", "p (window)",
              o.alpha);
  const Detector* det = &*detector;
  for (const DemoText& t : texts) {
    if (!o.out.empty()) {
      const std::string text_path = (fs::path(o.out) / "texts" / (t.name + ".txt")).string();
      if (Status w = write_new_file(text_path, t.text, FileAccess::kShared); !w.is_ok()) return fail(w);
    }
    score::ScanOptions scan;
    scan.prompt = t.prompt;
    auto scanner = score::CorpusScanner::create(&*tokenizer, {&det, 1}, rules, scan);
    if (!scanner) return fail(scanner.status());
    auto source = input::DocumentSource::from_memory(t.name, t.text, input::InputFormat::kText, {});
    if (!source) return fail(source.status());
    std::vector<score::PartialResult> results;
    results.emplace_back(score::analysis_info(*detector, keys->key_id_hex(), rules, tokenizer->sha256_hex()));
    score::DocumentScore doc;
    Status s = scanner->run(*source, results,
                            [&doc](const input::Document&, std::span<const score::DocumentScore> d) { doc = d[0]; });
    if (!s.is_ok()) return fail(s);
    const score::Evidence e = score::evaluate(doc.tally, detector->null_model());
    const double window_log_p = doc.window_searched ? doc.window.log_p_corrected : 0.0;
    // Two tests per text (whole and window) when the window search is on, decided as detect decides: Holm.
    const double family[] = {e.log_p, window_log_p};
    const bool detected = score::decide(std::span(family, window_search ? 2 : 1), o.alpha).detected;
    std::printf("%-26s %7llu %7.3f %11.2e %11.2e  %s\n", t.name.c_str(), static_cast<unsigned long long>(e.scored),
                e.favoured_fraction(), std::exp(e.log_p), std::exp(window_log_p),
                detected ? "WATERMARKED" : "not detected");
  }
  std::printf(
      "\n%s: the favoured share of the per-token scores (%s), %.2f expected without the key.\n"
      "p: the exact tail of that score's law without the key, over unique (context, token) tuples; window: the best\n"
      "passage, corrected for every window tried (not searched for the weighted-mean score). The verdict uses both,\n"
      "Holm-corrected.\n",
      column, score_label(*params), detector->null_model().p);
  if (!o.out.empty()) {
    const std::string text_dir = (fs::path(o.out) / "texts").string();
    std::printf("texts written to %s; try: telltale detect --key %s --tokenizer %s --per-doc --window 32 %s\n",
                text_dir.c_str(), key_path.c_str(), o.tokenizer.c_str(), text_dir.c_str());
  }
  if (!temp_dir.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
  }
  return kExitOk;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Watermark a few stories with the reference model, hide one in human text, and verify everything");
  cmd->add_option("--model,-m", o->model, "llama2.c-format model")->capture_default_str();
  cmd->add_option("--tokenizer,-t", o->tokenizer, "its SentencePiece model")->capture_default_str();
  cmd->add_option("--human", o->human, "human prose to hide a watermarked story in")->capture_default_str();
  cmd->add_option("--key,-k", o->key, "use this key file (default: a new key in a temporary directory)");
  cmd->add_option("--out,-o", o->out, "keep the key (if new) in this directory, and the texts in its texts/");
  cmd->add_option("--tokens,-n", o->tokens, "tokens per generated story")
      ->check(whole_number(16, 400))
      ->capture_default_str();
  cmd->add_option("--seed,-s", o->seed, "seed of the sampler's draws")->capture_default_str();
  cmd->add_option("--alpha,-a", o->alpha, "significance level of the verdicts")
      ->check(significance_level())
      ->capture_default_str();
  add_scheme_options(*cmd, o->scheme);
  cmd->callback([o, &exit_code] { exit_code = run_demo(*o); });
}

}  // namespace telltale::cli
