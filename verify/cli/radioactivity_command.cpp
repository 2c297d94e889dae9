// `telltale radioactivity`: was a suspect *model* trained on our watermarked text? Three steps, each a subcommand:
//   filter   the teacher-context filter from the teacher's logged outputs
//   predict  the reference model's predictions on teacher text (the in-tree reading-mode adapter)
//   query    ask a closed model every prompt through its API, with a resumable log (radioactivity_query_command.cpp)
//   score    the test: a predictions file (open model) or an answer log (closed model); JSON on stdout,
//            exit 0 detected, 1 not detected, 2 error. --provenance keeps every scored tuple (its SHA-256 in the
//            result); --bundle writes a signed evidence bundle (spec/evidence-bundle.md).
// Each parses its flags, makes the verify/radio call and prints. Rules and statistics: spec/radioactivity.md; the
// predictions format: spec/predictions-format.md.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "bundle_output.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/radio_evidence.hpp"
#include "evidence/signing_key.hpp"
#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "numeric_flags.hpp"
#include "radio/filter_build.hpp"
#include "radio/provenance.hpp"
#include "radio/reference_predictions.hpp"
#include "radio/suspect_run.hpp"
#include "run_context.hpp"
#include "scan_setup.hpp"
#include "telltale/new_file.hpp"

namespace telltale::cli {
namespace {

// ---- filter ----

struct FilterOptions {
  radio::FilterRecipe recipe;
  std::string tokenizer;
  std::string out;
  SchemeOptions scheme;
};

int run_filter(const FilterOptions& o) {
  auto tok = input::Tokenizer::load(o.tokenizer);
  if (!tok) return fail(tok.status());
  auto params = scheme_params(o.scheme, static_cast<uint32_t>(tok->vocab_size()));
  if (!params) return fail(params.status());
  radio::FilterRecipe recipe = o.recipe;
  recipe.params = *params;
  recipe.check_memory = [](uint64_t bytes, const std::string& what) { return check_memory_for(bytes, what); };
  auto built = radio::write_context_filter(recipe, *tok, o.out);
  if (!built) return fail(built.status());
  nlohmann::json j = {{"filter", o.out},
                      {"window_size", built->window_size},
                      {"windows_inserted", built->windows_inserted},
                      {"distinct_estimate", built->distinct_estimate},
                      {"bits", built->bits},
                      {"probes", built->probes},
                      {"false_positive_rate", built->false_positive_rate}};
  std::printf("%s\n", j.dump(2).c_str());
  return kExitOk;
}

// ---- predict ----

struct PredictOptions {
  radio::TeacherText text;
  std::string model;
  std::string tokenizer;
  std::string out;
  uint32_t top_k = 1;
};

int run_predict(const PredictOptions& o) {
  auto tok = input::Tokenizer::load(o.tokenizer);
  if (!tok) return fail(tok.status());
  auto model = refmodel::Llama2cModel::load(o.model);
  if (!model) return fail(model.status());
  auto records = radio::write_reference_predictions(o.text, *model, o.model, *tok, o.top_k, o.out);
  if (!records) return fail(records.status());
  std::fprintf(stderr, "telltale: wrote %llu record(s) to %s\n", static_cast<unsigned long long>(*records),
               o.out.c_str());
  return kExitOk;
}

// ---- score ----

struct ScoreOptions {
  std::string key;
  radio::SuspectRecipe recipe;  // the parameters are set from `scheme` once the tokenizer is read
  std::string provenance;
  std::string bundle;
  std::string signing_key;
  bool pdf = false;  // --pdf: the bundle also holds report.pdf
  bool allow_empty = false;
  SchemeOptions scheme;
  std::string score = "top1";
  std::string alignment = "first-piece";
};

// Scores the suspect; for a bundle, also keeps the plot series and the input files' hashes.
Result<evidence::RadioEvidenceRun> score_suspect(const radio::SuspectRecipe& recipe, const input::Tokenizer& tok,
                                                 const KeyRing& key, bool for_bundle,
                                                 const radio::SuspectTupleCallback& on_tuple) {
  if (for_bundle) return evidence::run_radio_with_evidence(recipe, tok, key, on_tuple);
  auto run = radio::run_suspect_test(recipe, tok, key, on_tuple);
  if (!run) return run.status();
  evidence::RadioEvidenceRun out;
  out.run = std::move(run).value();
  return out;
}

int run_score(const ScoreOptions& o) {
  if (!(o.recipe.alpha > 0 && o.recipe.alpha < 1)) return fail("--alpha must be in (0, 1)");
  if (o.recipe.predictions.empty() == o.recipe.answers.empty())
    return fail("give exactly one of --predictions FILE (open model) or --answers FILE (closed model)");
  if (Status s = check_bundle_options(o.bundle, o.signing_key, o.pdf); !s.is_ok()) return fail(s);
  if (Status s = check_allow_empty(o.allow_empty, o.bundle); !s.is_ok()) return fail(s);
  if (!o.provenance.empty())
    if (Status s = check_new_path(o.provenance); !s.is_ok()) return fail(s);
  auto tok = input::Tokenizer::load(o.recipe.tokenizer);
  if (!tok) return fail(tok.status());
  radio::SuspectRecipe recipe = o.recipe;
  auto score = radio::parse_score_kind(o.score);
  if (!score) return fail(score.status());
  recipe.score = *score;
  auto alignment = radio::parse_alignment_rule(o.alignment);
  if (!alignment) return fail(alignment.status());
  recipe.alignment = *alignment;
  auto params = scheme_params(o.scheme, static_cast<uint32_t>(tok->vocab_size()));
  if (!params) return fail(params.status());
  recipe.params = *params;
  auto keys = read_key_file(o.key);
  if (!keys) return fail(keys.status());
  if (auto det = Detector::create(*keys, *params); !det) return fail(o.key + ": " + det.status().message());
  auto signing = read_signing_key(o.signing_key);
  if (!signing) return fail(signing.status());
  const std::optional<evidence::SigningKey> signer = std::move(signing).value();
  recipe.allow_empty = o.allow_empty;
  std::optional<radio::ProvenanceWriter> provenance;
  if (!o.provenance.empty()) {
    auto w = radio::ProvenanceWriter::create(o.provenance);
    if (!w) return fail(w.status());
    provenance.emplace(std::move(w).value());
  }
  auto run = score_suspect(recipe, *tok, *keys, signer.has_value(),
                           provenance ? provenance->callback() : radio::SuspectTupleCallback());
  if (!run) return fail(run.status());
  warn_if_nothing_read(run->run.result["counts"]["records"].get<uint64_t>());
  nlohmann::json j = run->run.result;
  if (provenance) {
    auto sha256 = provenance->finish();
    if (!sha256) return fail(sha256.status());
    j["provenance"] = o.provenance;
    j["provenance_sha256"] = *sha256;
  }
  if (signer) {
    const evidence::RunContext context = run_context(std::span(&*keys, 1), *tok, run->files, signer->public_key());
    const nlohmann::json record = evidence::make_radio_record(context, recipe, j, run->plots);
    const Status w = write_evidence_bundle(o.bundle, record, *signer, o.pdf);
    if (!w.is_ok()) return fail(w);
  }
  // The provenance file is moved into place after the bundle is written: a failed write leaves neither.
  if (provenance)
    if (Status c = provenance->commit(); !c.is_ok()) return fail(c);
  std::printf("%s\n", j.dump(2).c_str());
  if (Status s = flush_stdout(); !s.is_ok()) return fail(s);  // a lost write is an error, with its reason
  return run->run.detected ? kExitDetected : kExitNotDetected;
}

void add_inputs(CLI::App& cmd, radio::TeacherText& in, const char* what) {
  cmd.add_option("inputs", in.inputs, what)->required();
  cmd.add_option("--field,-f", in.field, "JSONL: the text's field, e.g. response or messages[-1].content");
}

}  // namespace

void add_radioactivity_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "radioactivity",
      "Test a suspect model for training on watermarked text (spec/radioactivity.md): build the teacher-context\n"
      "filter, get a model's predictions on teacher text, ask a closed model through its API, and score\n"
      "predictions (open model) or answers (closed).");
  cmd->require_subcommand(1);

  auto f = std::make_shared<FilterOptions>();
  CLI::App* fc = cmd->add_subcommand("filter", "Build the teacher-context filter (a Bloom filter) from teacher text.");
  add_inputs(*fc, f->recipe.text, "the teacher's watermarked outputs: text files, directories, .jsonl, .ids");
  fc->add_option("--tokenizer,-t", f->tokenizer, "the generator's tokenizer: SentencePiece .model or llama.cpp .gguf")
      ->required();
  fc->add_option("--out,-o", f->out, "the filter file to write (new file)")->required();
  fc->add_option("--expected", f->recipe.expected,
                 "contexts to size the filter for (0: count the inputs first); the filter must fit in memory")
      ->capture_default_str();
  fc->add_option("--fpr", f->recipe.target_fpr, "target false-positive rate at that size, in (0, 0.5]")
      ->check(real_number(0, 0.5, End::kOpen))
      ->capture_default_str();
  add_scheme_options(*fc, f->scheme);
  fc->callback([f, &exit_code] { exit_code = run_filter(*f); });

  auto p = std::make_shared<PredictOptions>();
  CLI::App* pc = cmd->add_subcommand(
      "predict", "Write a predictions file: the reference model reads teacher text and predicts each next id.");
  add_inputs(*pc, p->text, "teacher text: text files, directories, .jsonl, .ids");
  pc->add_option("--model,-m", p->model, "the suspect model (llama2.c .bin)")->required();
  pc->add_option("--tokenizer,-t", p->tokenizer, "the watermark's tokenizer: SentencePiece .model or llama.cpp .gguf")
      ->required();
  pc->add_option("--out,-o", p->out, "the predictions file to write (new file)")->required();
  pc->add_option("--top-k", p->top_k, "predicted ids kept per position, with log-probabilities")
      ->check(whole_number(1, 64))
      ->capture_default_str();
  pc->callback([p, &exit_code] { exit_code = run_predict(*p); });

  auto s = std::make_shared<ScoreOptions>();
  CLI::App* sc = cmd->add_subcommand(
      "score",
      "Score a suspect: --predictions (open model, reading mode) or --answers (closed model: JSONL lines with\n"
      "'prompt' and 'response'). JSON on stdout; exit 0 detected, 1 not detected, 2 error.");
  sc->add_option("--key,-k", s->key, "key file")->required();
  sc->add_option("--tokenizer,-t", s->recipe.tokenizer,
                 "the generator's tokenizer: SentencePiece .model or llama.cpp .gguf")
      ->required();
  sc->add_option("--predictions", s->recipe.predictions, "a predictions file (spec/predictions-format.md)");
  sc->add_option("--answers", s->recipe.answers, "a closed-model answer log (JSONL: prompt, response)");
  sc->add_option("--filter", s->recipe.filter, "the teacher-context filter: only contexts the teacher emitted count");
  sc->add_option(
      "--suspect-tokenizer", s->recipe.suspect_tokenizer,
      "the suspect's own tokenizer (SentencePiece .model or llama.cpp .gguf): the predictions file holds its "
      "ids, aligned to --tokenizer by byte offsets");
  sc->add_option("--score", s->score,
                 "top1: count the suspect's top-ranked ids; probability: its probability mass on "
                 "the favoured ids (needs logprobs)")
      ->check(CLI::IsMember({"top1", "probability"}))
      ->capture_default_str();
  sc->add_option("--alignment", s->alignment,
                 "a suspect token that is not one whole watermark token (own tokenizer, or an answer's logprobs): "
                 "first-piece reads it as the first watermark token of its bytes, whole-token drops it")
      ->check(CLI::IsMember({"whole-token", "first-piece"}))
      ->capture_default_str();
  sc->add_option("--top-k", s->recipe.top_k, "predicted ids scored per position (open model)")
      ->check(whole_number(1, 64))
      ->capture_default_str();
  sc->add_option("--provenance", s->provenance, "write every scored tuple as a JSON line to this new file");
  sc->add_option("--alpha,-a", s->recipe.alpha, "significance level for 'detected'")
      ->check(significance_level())
      ->capture_default_str();
  sc->add_option("--bundle", s->bundle,
                 "also write a signed evidence bundle to this new directory (record, HTML report, manifest, "
                 "signature)");
  sc->add_option("--signing-key", s->signing_key, "the Ed25519 signing key for --bundle (telltale keygen --signing)");
  add_pdf_flag(sc, s->pdf);
  add_allow_empty_flag(*sc, s->allow_empty);
  add_scheme_options(*sc, s->scheme);
  sc->callback([s, &exit_code] { exit_code = run_score(*s); });

  add_radioactivity_query_command(*cmd, exit_code);
}

}  // namespace telltale::cli
