// `telltale radioactivity`: was a suspect *model* trained on our watermarked text? Three steps, each a subcommand:
//   filter   the teacher-context filter from the teacher's logged outputs
//   predict  the reference model's predictions on teacher text (the in-tree reading-mode adapter)
//   query    ask a closed model every prompt through its API, with a resumable log (radioactivity_query_command.cpp)
//   score    the test: a predictions file (open model) or an answer log (closed model); JSON on stdout,
//            exit 0 detected, 1 not detected, 2 error. --provenance keeps every scored tuple; --bundle writes a
//            signed evidence bundle (spec/evidence-bundle.md).
// Rules and statistics: spec/radioactivity.md; the predictions format: spec/predictions-format.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bundle_output.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/radio_evidence.hpp"
#include "evidence/signing_key.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "next_token_predictor.hpp"
#include "radio/answer_log.hpp"
#include "radio/context_filter.hpp"
#include "radio/predictions.hpp"
#include "radio/suspect_run.hpp"
#include "run_context.hpp"
#include "scan_setup.hpp"

namespace telltale::cli {
namespace {

struct InputChoice {
  std::vector<std::string> inputs;
  std::string field;
};

// Every document of the inputs as token ids (text is tokenized; .ids are checked against the vocabulary).
Status for_each_document(const InputChoice& in, const input::Tokenizer& tok,
                         const std::function<Status(const input::Document&, std::span<const int32_t>)>& f) {
  input::InputOptions options;
  options.field = in.field;
  options.vocab_size = tok.vocab_size();
  auto source = input::DocumentSource::open(in.inputs, options);
  if (!source) return source.status();
  input::Document doc;
  std::vector<int32_t> ids;
  while (true) {
    auto more = source->next(doc);
    if (!more) return more.status();
    if (!*more) return Status::ok();
    if (doc.pretokenized) {
      ids = doc.ids;
    } else if (Status s = tok.encode(doc.text, ids); !s.is_ok()) {
      return Status(s.code(), doc.source + ": " + s.message());
    }
    TT_RETURN_IF_ERROR(f(doc, ids));
  }
}

bool refuse_existing(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// ---- filter ----

struct FilterOptions {
  InputChoice in;
  std::string tokenizer;
  std::string out;
  uint64_t expected = 0;
  double fpr = 1e-3;
  SchemeOptions scheme;
};

int run_filter(const FilterOptions& o) {
  if (refuse_existing(o.out)) return fail(o.out + ": exists (refusing to overwrite)");
  auto tok = input::Tokenizer::load(o.tokenizer);
  if (!tok) return fail(tok.status());
  auto params = scheme_params(o.scheme, static_cast<uint32_t>(tok->vocab_size()));
  if (!params) return fail(params.status());
  const uint32_t w = params->self_hash ? params->context_width - 1 : params->context_width;
  if (w == 0) return fail("self-hash with h = 1 has no context window to filter on");
  uint64_t expected = o.expected;
  const bool stdin_input = std::find(o.in.inputs.begin(), o.in.inputs.end(), "-") != o.in.inputs.end();
  if (expected == 0 && stdin_input) return fail("reading stdin: give --expected (the inputs cannot be read twice)");
  if (expected == 0) {  // one pass to count the windows, so the filter is sized for them
    Status s = for_each_document(o.in, *tok, [&expected, w](const input::Document&, std::span<const int32_t> ids) {
      if (ids.size() >= w) expected += ids.size() - w + 1;
      return Status::ok();
    });
    if (!s.is_ok()) return fail(s);
  }
  auto filter = radio::ContextFilter::create(w, expected, o.fpr);
  if (!filter) return fail(filter.status());
  uint64_t windows = 0;
  Status s = for_each_document(o.in, *tok, [&](const input::Document&, std::span<const int32_t> ids) {
    for (size_t i = w; i <= ids.size(); ++i, ++windows) filter->insert(ids.subspan(i - w, w));
    return Status::ok();
  });
  if (!s.is_ok()) return fail(s);
  if (Status ws = filter->write(o.out); !ws.is_ok()) return fail(ws);
  nlohmann::json j = {{"filter", o.out},           {"window_size", w},
                      {"windows_inserted", windows}, {"distinct_estimate", filter->inserted()},
                      {"bits", filter->bits()},      {"probes", filter->probes()},
                      {"false_positive_rate", filter->false_positive_rate()}};
  std::printf("%s\n", j.dump(2).c_str());
  return kExitDetected;
}

// ---- predict ----

struct PredictOptions {
  InputChoice in;
  std::string model;
  std::string tokenizer;
  std::string out;
  uint32_t top_k = 1;
};

int run_predict(const PredictOptions& o) {
  if (refuse_existing(o.out)) return fail(o.out + ": exists (refusing to overwrite)");
  auto tok = input::Tokenizer::load(o.tokenizer);
  if (!tok) return fail(tok.status());
  auto model = refmodel::Llama2cModel::load(o.model);
  if (!model) return fail(model.status());
  if (model->vocab_size() != tok->vocab_size())
    return fail(o.model + ": the model has " + std::to_string(model->vocab_size()) + " ids but the tokenizer " +
                std::to_string(tok->vocab_size()));
  std::ofstream out(o.out, std::ios::binary);
  if (!out.is_open()) return fail(o.out + ": cannot open for writing");
  radio::PredictionsHeader h;
  h.vocab_size = static_cast<uint32_t>(tok->vocab_size());
  h.tokenizer_sha256 = tok->sha256_hex();
  h.suspect = "reference runner: " + std::filesystem::path(o.model).filename().string();
  out << radio::predictions_header_line(h) << '\n';
  const auto chunk = static_cast<size_t>(model->seq_len() - 1);
  uint64_t records = 0;
  Status s = for_each_document(o.in, *tok, [&](const input::Document& d, std::span<const int32_t> ids) {
    // Texts longer than the model's context are read in independent chunks, as separate records.
    for (size_t at = 0; at < ids.size(); at += chunk) {
      const auto piece = ids.subspan(at, std::min(chunk, ids.size() - at));
      auto top = refmodel::predict_next_tokens(*model, piece, o.top_k);
      if (!top) return top.status();
      radio::PredictionRecord r;
      r.doc = d.source + (d.line ? ":" + std::to_string(d.line) : "") + (at ? "@" + std::to_string(at) : "");
      r.ids.assign(piece.begin(), piece.end());
      for (size_t p = 1; p <= piece.size(); ++p) r.positions.push_back(static_cast<uint32_t>(p));
      r.predicted = std::move(top->ids);
      r.logprobs = std::move(top->logprobs);
      out << radio::prediction_record_line(r) << '\n';
      ++records;
    }
    return Status::ok();
  });
  if (!s.is_ok()) return fail(s);
  out.close();
  if (!out) return fail(o.out + ": write failed");
  std::fprintf(stderr, "telltale: wrote %llu record(s) to %s\n", static_cast<unsigned long long>(records),
               o.out.c_str());
  return kExitDetected;
}

// ---- score ----

struct ScoreOptions {
  std::string key;
  std::string tokenizer;
  std::string predictions;
  std::string answers;
  std::string filter;
  std::string provenance;
  std::string bundle;
  std::string signing_key;
  uint32_t top_k = 1;
  double alpha = 1e-3;
  bool allow_empty = false;
  SchemeOptions scheme;
};

// The provenance file: one JSON line per scored tuple (spec/radioactivity.md, section 5).
radio::SuspectTupleCallback provenance_writer(std::ofstream& prov) {
  return [&prov](const radio::ScoredTuple& t, const std::string& doc) {
    char ctx[17];
    std::snprintf(ctx, sizeof ctx, "%016llx", static_cast<unsigned long long>(t.context));
    nlohmann::json j = {{"record", t.record}, {"doc", doc},     {"position", t.position}, {"rank", t.rank},
                        {"token", t.token},   {"context", ctx}, {"score", t.score}};
    prov << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  };
}

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
  if (!(o.alpha > 0 && o.alpha < 1)) return fail("--alpha must be in (0, 1)");
  if (o.predictions.empty() == o.answers.empty())
    return fail("give exactly one of --predictions FILE (open model) or --answers FILE (closed model)");
  if (Status s = check_bundle_options(o.bundle, o.signing_key); !s.is_ok()) return fail(s);
  if (Status s = check_allow_empty(o.allow_empty, o.bundle); !s.is_ok()) return fail(s);
  if (!o.provenance.empty() && refuse_existing(o.provenance))
    return fail(o.provenance + ": exists (refusing to overwrite)");
  auto tok = input::Tokenizer::load(o.tokenizer);
  if (!tok) return fail(tok.status());
  auto params = scheme_params(o.scheme, static_cast<uint32_t>(tok->vocab_size()));
  if (!params) return fail(params.status());
  auto keys = read_key_file(o.key);
  if (!keys) return fail(keys.status());
  if (auto det = Detector::create(*keys, *params); !det) return fail(o.key + ": " + det.status().message());
  auto signing = read_signing_key(o.signing_key);
  if (!signing) return fail(signing.status());
  const std::optional<evidence::SigningKey> signer = std::move(signing).value();
  radio::SuspectRecipe recipe;
  recipe.tokenizer = o.tokenizer;
  recipe.predictions = o.predictions;
  recipe.answers = o.answers;
  recipe.filter = o.filter;
  recipe.top_k = o.top_k;
  recipe.alpha = o.alpha;
  recipe.params = *params;
  recipe.allow_empty = o.allow_empty;

  std::ofstream prov;
  radio::SuspectTupleCallback on_tuple;
  if (!o.provenance.empty()) {
    prov.open(o.provenance, std::ios::binary);
    if (!prov.is_open()) return fail(o.provenance + ": cannot open for writing");
    on_tuple = provenance_writer(prov);
  }
  auto run = score_suspect(recipe, *tok, *keys, signer.has_value(), on_tuple);
  if (!run) return fail(run.status());
  if (prov.is_open()) {
    prov.close();
    if (!prov) return fail(o.provenance + ": write failed");
  }
  warn_if_nothing_read(run->run.result["counts"]["records"].get<uint64_t>());
  nlohmann::json j = run->run.result;
  if (!o.provenance.empty()) j["provenance"] = o.provenance;
  if (signer) {
    const evidence::RunContext context = run_context(std::span(&*keys, 1), *tok, run->files, signer->public_key());
    const Status w = write_evidence_bundle(o.bundle, evidence::make_radio_record(context, recipe, j, run->plots), *signer);
    if (!w.is_ok()) return fail(w);
  }
  std::printf("%s\n", j.dump(2).c_str());
  std::fflush(stdout);
  return run->run.detected ? kExitDetected : kExitNotDetected;
}

void add_inputs(CLI::App& cmd, InputChoice& in, const char* what) {
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
  add_inputs(*fc, f->in, "the teacher's watermarked outputs: text files, directories, .jsonl, .ids");
  fc->add_option("--tokenizer,-t", f->tokenizer, "the generator's SentencePiece model (.model)")->required();
  fc->add_option("--out,-o", f->out, "the filter file to write (new file)")->required();
  fc->add_option("--expected", f->expected, "contexts to size the filter for (0: count the inputs first)")
      ->capture_default_str();
  fc->add_option("--fpr", f->fpr, "target false-positive rate at that size, in (0, 0.5]")->capture_default_str();
  add_scheme_options(*fc, f->scheme);
  fc->callback([f, &exit_code] { exit_code = run_filter(*f); });

  auto p = std::make_shared<PredictOptions>();
  CLI::App* pc = cmd->add_subcommand(
      "predict", "Write a predictions file: the reference model reads teacher text and predicts each next id.");
  add_inputs(*pc, p->in, "teacher text: text files, directories, .jsonl, .ids");
  pc->add_option("--model,-m", p->model, "the suspect model (llama2.c .bin)")->required();
  pc->add_option("--tokenizer,-t", p->tokenizer, "the watermark's SentencePiece model (.model)")->required();
  pc->add_option("--out,-o", p->out, "the predictions file to write (new file)")->required();
  pc->add_option("--top-k", p->top_k, "predicted ids kept per position, with log-probabilities")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  pc->callback([p, &exit_code] { exit_code = run_predict(*p); });

  auto s = std::make_shared<ScoreOptions>();
  CLI::App* sc = cmd->add_subcommand(
      "score",
      "Score a suspect: --predictions (open model, reading mode) or --answers (closed model: JSONL lines with\n"
      "'prompt' and 'response'). JSON on stdout; exit 0 detected, 1 not detected, 2 error.");
  sc->add_option("--key,-k", s->key, "key file")->required();
  sc->add_option("--tokenizer,-t", s->tokenizer, "the generator's SentencePiece model (.model)")->required();
  sc->add_option("--predictions", s->predictions, "a predictions file (spec/predictions-format.md)");
  sc->add_option("--answers", s->answers, "a closed-model answer log (JSONL: prompt, response)");
  sc->add_option("--filter", s->filter, "the teacher-context filter: only contexts the teacher emitted count");
  sc->add_option("--top-k", s->top_k, "predicted ids scored per position (open model)")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  sc->add_option("--provenance", s->provenance, "write every scored tuple as a JSON line to this new file");
  sc->add_option("--alpha,-a", s->alpha, "significance level for 'detected'")->capture_default_str();
  sc->add_option("--bundle", s->bundle,
                 "also write a signed evidence bundle to this new directory (record, HTML report, manifest, signature)");
  sc->add_option("--signing-key", s->signing_key, "the Ed25519 signing key for --bundle (telltale keygen --signing)");
  add_allow_empty_flag(*sc, s->allow_empty);
  add_scheme_options(*sc, s->scheme);
  sc->callback([s, &exit_code] { exit_code = run_score(*s); });

  add_radioactivity_query_command(*cmd, exit_code);
}

}  // namespace telltale::cli
