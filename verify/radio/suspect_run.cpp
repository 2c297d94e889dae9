#include "radio/suspect_run.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "radio/alignment.hpp"
#include "radio/answer_log.hpp"
#include "radio/context_filter.hpp"
#include "radio/predictions.hpp"
#include "stats/tails.hpp"

namespace telltale::radio {

namespace {

using nlohmann::json;

// What the open and closed readers share: the scorer, the callback, the record names, and for a suspect with its own
// tokenizer the piece tables and the alignment counts.
struct Reading {
  const SuspectRecipe& recipe;
  const input::Tokenizer& tok;
  SuspectScorer& scorer;
  const SuspectScorer::TupleCallback& on_tuple;
  std::vector<std::string>& docs;
  std::optional<PieceTable> watermark_pieces;
  std::optional<PieceTable> suspect_pieces;
  std::optional<FirstPieceReader> first_piece;  // with the first-piece rule, once the watermark pieces are loaded
  AlignmentCounts alignment;
  FirstPieceReader* first_piece_reader() { return first_piece ? &*first_piece : nullptr; }
  bool probability() const { return recipe.score == ScoreKind::kProbability; }
};

Status with_line(const std::string& path, uint64_t line, const Status& s) {
  return Status(s.code(), path + ":" + std::to_string(line) + ": " + s.message());
}

// A probability score reads the suspect's log-probabilities; a record with positions but none is refused.
Status check_logprobs(const Reading& in, const PredictionRecord& r) {
  if (in.probability() && !r.positions.empty() && r.logprobs.empty())
    return invalid_argument("--score probability needs the suspect's 'logprobs' at every position");
  return Status::ok();
}

// Open mode: every record of the predictions file, after checking it was made with the tokenizer its ids are in.
Status score_predictions(Reading& in, std::string& suspect) {
  const std::string& path = in.recipe.predictions;
  auto reader = PredictionReader::open(path);
  if (!reader) return reader.status();
  const bool own = in.suspect_pieces.has_value();
  const auto vocab = static_cast<uint32_t>(own ? in.suspect_pieces->size() : in.tok.vocab_size());
  const std::string& sha = own ? in.suspect_pieces->sha256_hex() : in.tok.sha256_hex();
  const char* which = own ? "the suspect tokenizer" : "the tokenizer";
  if (reader->header().vocab_size != vocab)
    return invalid_argument(path + ": vocabulary of " + std::to_string(reader->header().vocab_size) + " ids, but " +
                            which + " has " + std::to_string(vocab));
  if (!reader->header().tokenizer_sha256.empty() && reader->header().tokenizer_sha256 != sha)
    return invalid_argument(path + ": made with tokenizer SHA-256 " + reader->header().tokenizer_sha256 + ", not " +
                            which + "'s " + sha);
  suspect = reader->header().suspect;
  PredictionRecord r;
  while (true) {
    auto more = reader->next(r);
    if (!more) return more.status();
    if (!*more) return Status::ok();
    if (own) {
      auto text = suspect_record_text(r, *in.suspect_pieces);
      if (!text) return with_line(path, reader->line(), text.status());
      auto aligned = align_text(text->first, in.tok, *in.watermark_pieces);
      if (!aligned) return with_line(path, reader->line(), aligned.status());
      auto record = align_predictions(*aligned, text->second, *in.watermark_pieces, !in.probability(), in.alignment,
                                      in.first_piece_reader());
      if (!record) return with_line(path, reader->line(), record.status());
      record->doc = r.doc;
      if (!r.logprobs.empty() && record->logprobs.empty() && !record->positions.empty())
        return with_line(path, reader->line(), invalid_argument("'logprobs' lost in the alignment"));
      r = std::move(record).value();
    }
    if (Status s = check_logprobs(in, r); !s.is_ok()) return with_line(path, reader->line(), s);
    in.docs.push_back(r.doc);
    in.scorer.add(r, in.on_tuple);
  }
}

// A closed answer with logprobs, for the probability score: the prompt's watermark ids (they end at byte 0 of the
// response), then the response's, and the returned alternatives at each answer token's offset.
Result<PredictionRecord> answer_probability_record(Reading& in, const Answer& a) {
  auto positions = answer_positions(a);
  if (!positions) return positions.status();
  std::vector<int32_t> prompt;
  if (Status s = in.tok.encode(a.prompt, prompt); !s.is_ok()) return s;
  auto response = align_text(a.response, in.tok, *in.watermark_pieces);
  if (!response) return response.status();
  AlignedText text;
  text.ids = prompt;
  text.ids.insert(text.ids.end(), response->ids.begin(), response->ids.end());
  text.ends.assign(prompt.size(), 0);
  text.ends.insert(text.ends.end(), response->ends.begin(), response->ends.end());
  text.bytes = response->bytes;
  return align_predictions(text, *positions, *in.watermark_pieces, false, in.alignment, in.first_piece_reader());
}

// Where an answer of the log is, for reading it again in scoring order.
struct AnswerPlace {
  uint64_t index = 0;  // the prompt's index (0 for a line without one)
  uint64_t offset = 0;
  uint64_t line = 0;
};

// The log's answers in scoring order (spec/radioactivity.md, section 5): by prompt index when every answer has one
// (a query log written under --concurrency holds them in the order they came back, which changes run to run), in
// log order otherwise. The lines are only skimmed here; each is read in full when its turn comes.
Result<std::vector<AnswerPlace>> answer_order(AnswerLogReader& reader) {
  std::vector<AnswerPlace> places;
  bool indexed = true;
  std::optional<uint64_t> index;
  while (true) {
    auto more = reader.skim(index);
    if (!more) return more.status();
    if (!*more) break;
    indexed = indexed && index.has_value();
    places.push_back({index.value_or(0), reader.offset(), reader.line()});
  }
  if (indexed)
    std::stable_sort(places.begin(), places.end(),
                     [](const AnswerPlace& x, const AnswerPlace& y) { return x.index < y.index; });
  return places;
}

// Closed mode: every answer of the log, in prompt order. Top-1: the prompt and the answer tokenized with the
// watermark tokenizer, every answer token a choice. Probability: the answer's logprobs aligned to the watermark
// tokens.
Status score_answers(Reading& in) {
  const std::string& path = in.recipe.answers;
  auto reader = AnswerLogReader::open(path);
  if (!reader) return reader.status();
  auto order = answer_order(*reader);
  if (!order) return order.status();
  Answer a;
  std::vector<int32_t> prompt, answer;
  for (const AnswerPlace& place : *order) {
    if (Status s = reader->seek(place.offset, place.line); !s.is_ok()) return s;
    auto more = reader->next(a);
    if (!more) return more.status();
    if (!*more) return io_error(path + ": changed while it was read");
    // Named by the query log's prompt index when the line has one, else by its ordinal among the answers.
    const std::string doc =
        path + (a.index ? "@prompt" + std::to_string(*a.index) : "#" + std::to_string(in.docs.size() + 1));
    if (in.probability()) {
      if (a.logprobs.empty() && !a.response.empty())
        return with_line(path, reader->line(), invalid_argument("--score probability needs the answer's 'logprobs'"));
      auto record = answer_probability_record(in, a);
      if (!record) return with_line(path, reader->line(), record.status());
      record->doc = doc;
      in.docs.push_back(doc);
      in.scorer.add(*record, in.on_tuple);
      continue;
    }
    if (Status s = in.tok.encode(a.prompt, prompt); !s.is_ok()) return Status(s.code(), path + ": " + s.message());
    if (Status s = in.tok.encode(a.response, answer); !s.is_ok()) return Status(s.code(), path + ": " + s.message());
    in.docs.push_back(doc);
    in.scorer.add(answer_record(prompt, answer, in.docs.back()), in.on_tuple);
  }
  return Status::ok();
}

json result_json(const SuspectRecipe& recipe, const Reading& in, const KeyRing& key, const ContextFilter* filter,
                 const std::string& suspect, bool detected) {
  const SuspectScorer& scorer = in.scorer;
  const input::Tokenizer& tok = in.tok;
  const score::Evidence e = scorer.evidence();
  const SuspectCounts& c = scorer.counts();
  json j;
  j["detected"] = detected;
  j["alpha"] = recipe.alpha;
  j["mode"] = recipe.predictions.empty() ? "closed (answers)" : "open (reading)";
  const bool probability = recipe.score == ScoreKind::kProbability;
  const ProbabilityEvidence pe = probability ? scorer.probability_evidence() : ProbabilityEvidence();
  const double log_p = probability ? pe.log_p : e.log_p;
  j["p_value"] = std::exp(log_p);
  j["log10_p_value"] = stats::log10_from_ln(log_p);
  if (probability) {
    // "score" only here: a top-1 result is the one a record made before the probability score holds, bit for bit.
    j["score"] = score_kind_name(recipe.score);
    j["scored_tuples"] = pe.tuples;
    j["statistic"] = pe.statistic;
    j["expected"] = pe.expected;
    j["probability_mass"] = pe.mass;
    j["favoured_fraction"] = pe.favoured_fraction();
    j["z_score_orientation_only"] = pe.z;
    j["null"] = {{"law", "weighted sum of independent per-token null scores, weights = the suspect's probabilities"},
                 {"method", pe.method_text()},
                 {"exact", pe.method == stats::TailMethod::kExactGrid}};
    j["unweighted"] = {
        {"scored_tuples", e.scored}, {"statistic", e.statistic}, {"log10_p_value", stats::log10_from_ln(e.log_p)}};
  } else {
    j["scored_tuples"] = e.scored;
    j["statistic"] = e.statistic;
    j["expected"] = e.expected;
    j["favoured_fraction"] = e.favoured_fraction();
    j["z_score_orientation_only"] = e.z;
  }
  j["key_id"] = key.key_id_hex();
  j["configuration"] = describe(recipe.params);
  j["tokenizer_sha256"] = tok.sha256_hex();
  if (in.suspect_pieces) j["suspect_tokenizer_sha256"] = in.suspect_pieces->sha256_hex();
  if (in.watermark_pieces) {
    const AlignmentCounts& a = in.alignment;
    j["alignment"] = {{"positions", a.positions},
                      {"off_watermark_boundary", a.off_boundary},
                      {"top_not_one_watermark_token", a.top_unaligned},
                      {"candidates", a.candidates},
                      {"candidates_one_watermark_token", a.candidates_kept},
                      {"rule", alignment_rule_name(recipe.alignment)},
                      {"candidates_by_first_piece", a.first_piece_kept}};
  }
  if (!suspect.empty()) j["suspect"] = suspect;
  j["counts"] = {{"records", c.records},
                 {"positions", c.positions},
                 {"no_context", c.no_context},
                 {"repeated_context", c.repeated_context},
                 {"not_in_teacher_filter", c.filtered_out},
                 {"scored_positions", c.scored_positions}};
  j["rules"] = {
      {"contexts", "each context window scored once, and only when no id the suspect saw already followed it"},
      {"predicted_ids_per_position", recipe.score == ScoreKind::kProbability ? kMaxPredictedPerPosition : recipe.top_k},
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

const char* score_kind_name(ScoreKind kind) { return kind == ScoreKind::kProbability ? "probability" : "top1"; }

Result<ScoreKind> parse_score_kind(const std::string& name) {
  if (name == "top1") return ScoreKind::kTop1;
  if (name == "probability") return ScoreKind::kProbability;
  return invalid_argument("the score must be top1 or probability, not '" + name.substr(0, 40) + "'");
}

const char* alignment_rule_name(AlignmentRule rule) {
  return rule == AlignmentRule::kFirstPiece ? "first-piece" : "whole-token";
}

Result<AlignmentRule> parse_alignment_rule(const std::string& name) {
  if (name == "whole-token") return AlignmentRule::kWholeToken;
  if (name == "first-piece") return AlignmentRule::kFirstPiece;
  return invalid_argument("the alignment must be whole-token or first-piece, not '" + name.substr(0, 40) + "'");
}

Result<SuspectRun> run_suspect_test(const SuspectRecipe& recipe, const input::Tokenizer& tokenizer, const KeyRing& key,
                                    const SuspectTupleCallback& on_tuple) {
  if (!(recipe.alpha > 0 && recipe.alpha < 1)) return invalid_argument("alpha must be in (0, 1)");
  if (recipe.predictions.empty() == recipe.answers.empty())
    return invalid_argument("a suspect is scored from exactly one of a predictions file or an answer log");
  if (!recipe.suspect_tokenizer.empty() && recipe.predictions.empty())
    return invalid_argument(
        "a suspect tokenizer is for a predictions file; an answer log's logprobs carry their bytes");
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
  const bool probability = recipe.score == ScoreKind::kProbability;
  rules.max_rank = probability ? static_cast<uint32_t>(kMaxPredictedPerPosition) : recipe.top_k;
  rules.probability = probability;
  auto scorer = SuspectScorer::create(*det, rules);
  if (!scorer) return scorer.status();

  std::vector<std::string> docs;  // record ordinal -> name
  SuspectScorer::TupleCallback tuple_callback;
  if (on_tuple) tuple_callback = [&docs, &on_tuple](const ScoredTuple& t) { on_tuple(t, docs[t.record]); };
  Reading in{recipe, tokenizer, *scorer, tuple_callback, docs, std::nullopt, std::nullopt, std::nullopt, {}};
  if (!recipe.suspect_tokenizer.empty() || (probability && recipe.predictions.empty())) {
    auto wm = PieceTable::load(tokenizer.path());
    if (!wm) return wm.status();
    in.watermark_pieces.emplace(std::move(wm).value());
    if (recipe.alignment == AlignmentRule::kFirstPiece) in.first_piece.emplace(tokenizer, *in.watermark_pieces);
  }
  if (!recipe.suspect_tokenizer.empty()) {
    auto sp = PieceTable::load(recipe.suspect_tokenizer);
    if (!sp) return sp.status();
    in.suspect_pieces.emplace(std::move(sp).value());
  }
  std::string suspect;
  const Status s = recipe.predictions.empty() ? score_answers(in) : score_predictions(in, suspect);
  if (!s.is_ok()) return s;
  if (docs.empty() && !recipe.allow_empty) {
    const bool open = !recipe.predictions.empty();
    return invalid_argument("no documents read: " + (open ? recipe.predictions : recipe.answers) + " holds no " +
                            (open ? "prediction record" : "answer") + " (--allow-empty accepts that)");
  }

  SuspectRun run;
  const score::Evidence e = scorer->evidence();
  if (probability) {
    const ProbabilityEvidence pe = scorer->probability_evidence();
    run.detected = pe.tuples > 0 && pe.log_p <= std::log(recipe.alpha);
  } else {
    run.detected = e.scored > 0 && e.log_p <= std::log(recipe.alpha);
  }
  run.result = result_json(recipe, in, key, filter ? &*filter : nullptr, suspect, run.detected);
  run.null = scorer->null_model();
  run.files_read.push_back(recipe.predictions.empty() ? recipe.answers : recipe.predictions);
  if (filter) run.files_read.push_back(recipe.filter);
  if (!recipe.suspect_tokenizer.empty()) run.files_read.push_back(recipe.suspect_tokenizer);
  return run;
}

}  // namespace telltale::radio
