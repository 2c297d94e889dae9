#include "radio/suspect_run.hpp"

#include <cmath>
#include <optional>

#include "radio/answer_log.hpp"
#include "radio/context_filter.hpp"
#include "radio/predictions.hpp"
#include "stats/tails.hpp"

namespace telltale::radio {

namespace {

using nlohmann::json;

// Open mode: every record of the predictions file, after checking it was made with this tokenizer.
Status score_predictions(const std::string& path, const input::Tokenizer& tok, SuspectScorer& scorer,
                         const SuspectScorer::TupleCallback& on_tuple, std::vector<std::string>& docs,
                         std::string& suspect) {
  auto reader = PredictionReader::open(path);
  if (!reader) return reader.status();
  const auto vocab = static_cast<uint32_t>(tok.vocab_size());
  if (reader->header().vocab_size != vocab)
    return invalid_argument(path + ": vocabulary of " + std::to_string(reader->header().vocab_size) +
                            " ids, but the tokenizer has " + std::to_string(vocab));
  if (!reader->header().tokenizer_sha256.empty() && reader->header().tokenizer_sha256 != tok.sha256_hex())
    return invalid_argument(path + ": made with tokenizer SHA-256 " + reader->header().tokenizer_sha256 +
                            ", not this tokenizer's " + tok.sha256_hex());
  suspect = reader->header().suspect;
  PredictionRecord r;
  while (true) {
    auto more = reader->next(r);
    if (!more) return more.status();
    if (!*more) return Status::ok();
    docs.push_back(r.doc);
    scorer.add(r, on_tuple);
  }
}

// Closed mode: every answer of the log, the prompt and the answer tokenized.
Status score_answers(const std::string& path, const input::Tokenizer& tok, SuspectScorer& scorer,
                     const SuspectScorer::TupleCallback& on_tuple, std::vector<std::string>& docs) {
  auto reader = AnswerLogReader::open(path);
  if (!reader) return reader.status();
  Answer a;
  std::vector<int32_t> prompt, answer;
  while (true) {
    auto more = reader->next(a);
    if (!more) return more.status();
    if (!*more) return Status::ok();
    if (Status s = tok.encode(a.prompt, prompt); !s.is_ok()) return Status(s.code(), path + ": " + s.message());
    if (Status s = tok.encode(a.response, answer); !s.is_ok()) return Status(s.code(), path + ": " + s.message());
    // Named by the query log's prompt index when the line has one, else by its ordinal among the answers.
    docs.push_back(path + (a.index ? "@prompt" + std::to_string(*a.index) : "#" + std::to_string(docs.size() + 1)));
    scorer.add(answer_record(prompt, answer, docs.back()), on_tuple);
  }
}

json result_json(const SuspectRecipe& recipe, const SuspectScorer& scorer, const KeyRing& key,
                 const input::Tokenizer& tok, const ContextFilter* filter, const std::string& suspect, bool detected) {
  const score::Evidence e = scorer.evidence();
  const SuspectCounts& c = scorer.counts();
  json j;
  j["detected"] = detected;
  j["p_value"] = std::exp(e.log_p);
  j["log10_p_value"] = stats::log10_from_ln(e.log_p);
  j["alpha"] = recipe.alpha;
  j["mode"] = recipe.predictions.empty() ? "closed (answers)" : "open (reading)";
  j["scored_tuples"] = e.scored;
  j["statistic"] = e.statistic;
  j["expected"] = e.expected;
  j["favoured_fraction"] = e.favoured_fraction();
  j["z_score_orientation_only"] = e.z;
  j["key_id"] = key.key_id_hex();
  j["configuration"] = describe(recipe.params);
  j["tokenizer_sha256"] = tok.sha256_hex();
  if (!suspect.empty()) j["suspect"] = suspect;
  j["counts"] = {{"records", c.records},
                 {"positions", c.positions},
                 {"no_context", c.no_context},
                 {"repeated_context", c.repeated_context},
                 {"not_in_teacher_filter", c.filtered_out},
                 {"scored_positions", c.scored_positions}};
  j["rules"] = {
      {"contexts", "each context window scored once, and only when no id the suspect saw already followed it"},
      {"predicted_ids_per_position", recipe.top_k},
      {"teacher_filter", filter ? recipe.filter : "none"}};
  if (filter) {
    // A false positive of the filter admits a context the teacher never watermarked: its tuples are pure null draws,
    // so the test stays exact and only power is diluted (spec/radioactivity.md, section 3).
    const double fpr = filter->false_positive_rate();
    j["filter"] = {{"false_positive_rate", fpr},
                   {"expected_null_contexts_admitted_at_most", fpr * static_cast<double>(c.scored_positions)},
                   {"effect", "none on the null distribution; dilutes the evidence by at most this many contexts"}};
  }
  return j;
}

}  // namespace

Result<SuspectRun> run_suspect_test(const SuspectRecipe& recipe, const input::Tokenizer& tokenizer, const KeyRing& key,
                                    const SuspectTupleCallback& on_tuple) {
  if (!(recipe.alpha > 0 && recipe.alpha < 1)) return invalid_argument("alpha must be in (0, 1)");
  if (recipe.predictions.empty() == recipe.answers.empty())
    return invalid_argument("a suspect is scored from exactly one of a predictions file or an answer log");
  auto det = Detector::create(key, recipe.params);
  if (!det) return det.status();
  std::optional<ContextFilter> filter;
  if (!recipe.filter.empty()) {
    auto f = ContextFilter::read(recipe.filter);
    if (!f) return f.status();
    filter.emplace(std::move(f).value());
  }
  SuspectRules rules;
  rules.filter = filter ? &*filter : nullptr;
  rules.max_rank = recipe.top_k;
  auto scorer = SuspectScorer::create(*det, rules);
  if (!scorer) return scorer.status();

  std::vector<std::string> docs;  // record ordinal -> name
  SuspectScorer::TupleCallback tuple_callback;
  if (on_tuple) tuple_callback = [&docs, &on_tuple](const ScoredTuple& t) { on_tuple(t, docs[t.record]); };
  std::string suspect;
  const Status s = recipe.predictions.empty()
                       ? score_answers(recipe.answers, tokenizer, *scorer, tuple_callback, docs)
                       : score_predictions(recipe.predictions, tokenizer, *scorer, tuple_callback, docs, suspect);
  if (!s.is_ok()) return s;
  if (docs.empty() && !recipe.allow_empty) {
    const bool open = !recipe.predictions.empty();
    return invalid_argument("no documents read: " + (open ? recipe.predictions : recipe.answers) + " holds no " +
                            (open ? "prediction record" : "answer") + " (--allow-empty accepts that)");
  }

  SuspectRun run;
  const score::Evidence e = scorer->evidence();
  run.detected = e.scored > 0 && e.log_p <= std::log(recipe.alpha);
  run.result = result_json(recipe, *scorer, key, tokenizer, filter ? &*filter : nullptr, suspect, run.detected);
  run.null = scorer->null_model();
  run.files_read.push_back(recipe.predictions.empty() ? recipe.answers : recipe.predictions);
  if (filter) run.files_read.push_back(recipe.filter);
  return run;
}

}  // namespace telltale::radio
