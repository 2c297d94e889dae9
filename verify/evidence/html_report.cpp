// The report's text: verdict, meaning, method, results, parameters, provenance; the plots are in report_plots.cpp.
#include "evidence/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evidence/model_aware_report.hpp"
#include "evidence/record.hpp"
#include "evidence/report_documents.hpp"
#include "evidence/report_plots.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::evidence {

namespace {

using nlohmann::json;
using report::code;
using report::count;
using report::esc;
using report::fmt;
using report::p_text;

uint64_t count_or_zero(const json& j, const char* key) { return j.contains(key) ? count(j.at(key)) : 0; }

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// The analysis the summary reports (the key id it names), or the first.
size_t reported_analysis(const json& record) {
  const std::string id = str(record.at("result"), "key_id");
  for (size_t a = 0; a < record.at("plots").size(); ++a) {
    if (record.at("plots").at(a).value("key_id", "") == id) return a;
  }
  return 0;
}

std::string row(const std::string& name, const std::string& value_html) {
  return "<tr><th>" + esc(name) + "</th><td>" + value_html + "</td></tr>\n";
}

constexpr const char* kStyle = R"(
body{font-family:Georgia,'DejaVu Serif',serif;max-width:50em;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}
.verdict{font-size:1.25em;padding:.8em 1em;border:2px solid #333;margin:1em 0}
.verdict.detected{background:#fbeaea;border-color:#a33}.verdict.not-detected{background:#eef5ee;border-color:#393}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{text-align:left;vertical-align:top;padding:.25em .5em;
border-bottom:1px solid #ddd}th{width:28%;font-weight:normal;color:#444}code,pre{font-family:'DejaVu Sans Mono',monospace;
font-size:.85em;word-break:break-all}pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
#documents-table th{width:auto}
svg.plot{width:100%;height:auto;margin:.5em 0;font-family:'DejaVu Sans',sans-serif}
svg .axis{stroke:#333}svg .grid{stroke:#e4e4e4}svg .tick{font-size:11px;fill:#333}svg .label{font-size:12px;fill:#111}
svg .null{fill:#b8b8b8}svg .observed{fill:#b03a2e}svg .curve{stroke:#b03a2e;stroke-width:2}
svg .winmean{stroke:#1f4e9c;stroke-width:3}svg rect.curve{fill:#b03a2e;stroke:none}svg rect.winmean{fill:#1f4e9c;stroke:none}
svg .ref{stroke:#333;stroke-dasharray:5 4}svg .reflabel{font-size:11px;fill:#333}svg .band{fill:#f3d36b;opacity:.5}
.note{font-size:.9em;color:#444}.meaning{font-size:1.05em}
@page{size:A4;margin:16mm 14mm 20mm 14mm;@bottom-right{content:"page " counter(page) " of " counter(pages);
font:8pt 'DejaVu Sans',sans-serif;color:#444}}
@media print{body{margin:0;max-width:none;font-size:10.5pt}h2,h3{break-after:avoid}
svg.plot,table,tr,.verdict,.figure{break-inside:avoid}pre{font-size:7pt}.appendix{break-before:page}}
)";

// "..." after a shortened key id, as HTML or plain text.
const char* ellipsis(bool html) { return html ? "&hellip;" : "..."; }

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// How the decision reads against alpha: detected means p <= alpha (score::decide).
std::string against_alpha(const json& r, bool positive) {
  return std::string(positive ? ", at or below" : ", above") + " the significance level " +
         fmt("%g", r.at("alpha").get<double>()) + " chosen in advance.";
}

std::string detection_verdict(const json& record, bool html) {
  const json& r = record.at("result");
  const bool detected = r.at("detected").get<bool>();
  return "The watermark of key " + str(r, "key_id").substr(0, 16) + ellipsis(html) +
         (detected ? " was detected" : " was not detected") + " in the tested text (" +
         plural(count_or_zero(r, "documents"), "document", "documents") +
         "): p = " + p_text(r.at("log10_p_value").get<double>(), html) + against_alpha(r, detected);
}

bool open_mode(const json& record) { return record.at("recipe").at("mode").get<std::string>() == "open"; }

std::string radioactivity_verdict(const json& record, bool html) {
  const json& r = record.at("result");
  const bool detected = r.at("detected").get<bool>();
  const std::string what = open_mode(record) ? "predictions on our watermarked text" : "answers to our prompts";
  return "The suspect model's " + what + (detected ? " show" : " do not show") +
         " that it was trained on text watermarked with key " + str(r, "key_id").substr(0, 16) + ellipsis(html) + " (" +
         plural(count(r.at("scored_tuples")), "scored tuple", "scored tuples") +
         "): p = " + p_text(r.at("log10_p_value").get<double>(), html) + against_alpha(r, detected);
}

// "account 17 and account 42" from the accounts the corpus-level correction accused.
std::string accused_accounts(const json& r) {
  std::vector<std::string> ids;
  for (const json& a : r.at("accusations")) {
    const std::string id = std::to_string(count(a.at("account")));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == ids.size() ? " and " : ", ") + ("account " + ids[i]);
  }
  return out;
}

std::string attribution_verdict(const json& record, bool html) {
  const json& r = record.at("result");
  const std::string docs = plural(count(r.at("documents")), "document", "documents");
  const std::string accounts = std::to_string(count(r.at("accounts_tested")));
  if (r.at("attributed").get<bool>()) {
    return "The tested text (" + docs + ") carries the fingerprint of registered " + accused_accounts(r) + ", out of " +
           accounts + " registered accounts: the strongest accusation has p = " +
           p_text(r.at("log10_p_value").get<double>(), html) + " after correction" + against_alpha(r, true);
  }
  return "The tested text (" + docs + ") is not attributed to any of the " + accounts +
         " registered accounts: no accusation reaches the significance level " +
         fmt("%g", r.at("alpha").get<double>()) + " chosen in advance.";
}

std::string verdict(const json& record, bool html) {
  switch (test_kind(record)) {
    case TestKind::kRadioactivity: return radioactivity_verdict(record, html);
    case TestKind::kAttribution: return attribution_verdict(record, html);
    case TestKind::kDetection: break;
  }
  return detection_verdict(record, html);
}

// How often chance alone gives a result this extreme: a percentage while that is the plainer phrase, else
// "about once in N" (once_in).
std::string how_often(double log10_p) {
  if (log10_p >= -2) return "in about " + fmt("%.0f", 100 * std::pow(10.0, std::min(0.0, log10_p))) + "% of cases";
  return once_in(log10_p);
}

// The record's id line under the title, and the verdict box.
std::string page_head(const json& record, const std::string& title, bool positive) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<title>" +
      title + "</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>" + title + "</h1>\n";
  h += "<p class=\"note\">Made by telltale " + esc(record.at("software").at("version").get<std::string>()) + " on " +
       esc(record.at("created_utc").get<std::string>()) + ". Signed with Ed25519 key " +
       code(record.at("signer").at("public_key_id").get<std::string>()) + ".</p>\n";
  h += std::string("<p id=\"verdict\" class=\"verdict ") + (positive ? "detected" : "not-detected") + "\">" +
       verdict(record, true) + "</p>\n";
  return h;
}

// "What the p-value means": the one-sentence reading (id meaning) and the paragraph after it.
std::string meaning_section(const std::string& sentence, const std::string& explanation) {
  return "<h2>What the p-value means</h2>\n<p class=\"meaning\" id=\"meaning\">" + sentence + "</p>\n<p>" +
         explanation + "</p>\n";
}

// The threshold sentence every explanation ends with; `positive` is what passing it means.
std::string threshold_sentence(double alpha, const std::string& positive) {
  return " The threshold alpha = " + fmt("%g", alpha) + " was fixed before the test; " + positive +
         " only when the p-value is at or below it.";
}

std::string p_row(const std::string& name, double log10_p) {
  return row(name, p_text(log10_p) + " (log10 p = " + fmt("%.6g", log10_p) + ")");
}

// A plot under its heading, with a sentence on what it shows.
std::string figure(const std::string& heading, const std::string& what_it_shows, const std::string& plot) {
  return "<div class=\"figure\"><h3>" + heading + "</h3>\n<p class=\"note\">" + what_it_shows + "</p>\n" + plot +
         "</div>\n";
}

std::string key_section(const json& record) {
  std::string h =
      "<h2>The key, fixed in advance</h2>\n<p>The secret key itself never appears in this report. Its "
      "public id is a SHA-256 commitment to the secret: the company can publish it (with <code>telltale "
      "keyinfo</code>) before any dispute, and anyone can later check that the key tested here is the one "
      "published.</p>\n<table>";
  for (const json& k : record.at("watermark_keys")) {
    h += row("public key id", code(k.at("key_id").get<std::string>()));
    h += row("key id scheme", code(k.at("key_id_scheme").get<std::string>()));
  }
  h += row("scheme configuration", code(record.at("recipe").at("scheme").at("configuration").get<std::string>()));
  h += row("tokenizer SHA-256", code(record.at("tokenizer").at("sha256").get<std::string>()));
  return h + "</table>\n";
}

// The parameters table: the scheme's name and each parameter the scheme table says it reads, then `rows` (the test's
// own), then alpha and the JSONL field and known prompt when the recipe has them.
std::string parameters_section(const json& recipe, const std::string& rows, double alpha) {
  const json& scheme = recipe.at("scheme");
  const SchemeParams params = report::recorded_params(scheme);
  std::string h = "<h2>Parameters</h2>\n<table>" + row("scheme", code(scheme.at("name").get<std::string>()));
  for (const SchemeField& f : scheme_fields()) {
    if (!f.applies_to(params.scheme)) continue;
    const double v = f.get(params);
    switch (f.type) {
      case SchemeField::Type::kFraction:
      case SchemeField::Type::kLogits: h += row(f.label, fmt("%g", v)); break;
      case SchemeField::Type::kCount: h += row(f.label, fmt("%.0f", v)); break;
      case SchemeField::Type::kChoice: h += row(f.label, code(f.choices[static_cast<size_t>(v)])); break;
    }
  }
  h += row("context width h", std::to_string(count(scheme.at("context_width"))));
  h += row("seeding", scheme.at("self_hash").get<bool>() ? "self-hash" : "left-hash");
  h += row("vocabulary size", std::to_string(count(scheme.at("vocab_size"))));
  h += rows + row("alpha", fmt("%g", alpha));
  for (const char* field : {"field", "prompt"}) {
    const std::string v = str(recipe, field);
    if (!v.empty()) h += row(std::string(field) == "field" ? "JSONL field" : "known prompt", code(v));
  }
  return h + "</table>\n";
}

bool flat(const json& j) {
  if (!j.is_array()) return j.is_primitive();
  return std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_primitive(); });
}

// JSON indented by object, with arrays of plain values (or of such arrays: a plot's points) kept on one wrapped line,
// so that a plot's hundreds of numbers take lines, not pages. Still valid JSON, the same values as record.json.
std::string readable_json(const json& j, int depth) {
  if (j.is_object()) {
    if (j.empty()) return "{}";
    const std::string pad(static_cast<size_t>(depth + 1), ' ');
    std::string out = "{";
    for (auto it = j.begin(); it != j.end(); ++it) {
      out +=
          (it == j.begin() ? "\n" : ",\n") + pad + json(it.key()).dump() + ": " + readable_json(it.value(), depth + 1);
    }
    return out + "\n" + std::string(static_cast<size_t>(depth), ' ') + "}";
  }
  if (!j.is_array()) return j.dump();
  const bool inline_all = std::all_of(j.begin(), j.end(), [](const json& e) { return flat(e); });
  const std::string pad(static_cast<size_t>(depth + 1), ' ');
  std::string out = "[";
  for (size_t i = 0; i < j.size(); ++i) {
    out += i == 0 ? "" : ",";
    out +=
        inline_all ? (i == 0 ? "" : " ") + readable_json(j[i], depth + 1) : "\n" + pad + readable_json(j[i], depth + 1);
  }
  return out + (inline_all || j.empty() ? "" : "\n" + std::string(static_cast<size_t>(depth), ' ')) + "]";
}

// The record as the appendix shows it: whole, except that a long document list is cut (record.json has it all).
std::string appendix(const json& record) {
  std::string note;
  const json* shown = &record;
  json cut;
  if (record.contains("documents") && record.at("documents").size() > report::kMaxListedDocuments) {
    cut = record;
    json& docs = cut.at("documents");
    note = "<p class=\"note\">The " + std::to_string(docs.size()) + " documents are cut to the first " +
           std::to_string(report::kMaxListedDocuments) +
           " here; record.json, whose SHA-256 the signed manifest holds, lists every one.</p>\n";
    docs.erase(docs.begin() + static_cast<std::ptrdiff_t>(report::kMaxListedDocuments), docs.end());
    shown = &cut;
  }
  return "<h2 class=\"appendix\">Appendix: the full record</h2>\n" + note + "<pre id=\"record\">" +
         esc(readable_json(*shown, 0)) + "</pre>\n";
}

// The bytes tested, the software and provenance, how to check the bundle, and the record as an appendix.
std::string page_tail(const json& record) {
  std::string h = "<h2>Exactly which bytes were tested</h2>\n<table>";
  h += row("tokenizer " + record.at("tokenizer").at("path").get<std::string>(),
           code(record.at("tokenizer").at("sha256").get<std::string>()));
  for (const json& f : record.at("input_files")) {
    h += row(f.at("path").get<std::string>() + " (" + std::to_string(count(f.at("bytes"))) + " bytes)",
             code(f.at("sha256").get<std::string>()));
  }
  h += "</table>\n";

  std::string argv;
  for (const json& a : record.at("command_line")) argv += (argv.empty() ? "" : " ") + a.get<std::string>();
  h += "<h2>Software and provenance</h2>\n<table>";
  h += row("software", esc("telltale " + record.at("software").at("version").get<std::string>()));
  h += row("source commit", code(record.at("software").at("source_commit").get<std::string>()));
  h += row("executable SHA-256 (build id)", code(record.at("software").at("executable_sha256").get<std::string>()));
  h += row("command line", code(argv));
  h += row("working directory", code(record.at("working_directory").get<std::string>()));
  h += row("created (UTC)", esc(record.at("created_utc").get<std::string>()));
  h += row("signing public key", code(record.at("signer").at("public_key").get<std::string>()));
  h += "</table>\n<p id=\"how-to-check\">To check this bundle: <code>telltale report verify BUNDLE --pubkey "
       "signing.pub</code> checks the signature and every file's hash (the record, this report and its PDF when the "
       "bundle has one). Adding <code>--key</code> with the watermark key re-runs the test on the same bytes and "
       "confirms every number; give <code>--base DIR</code> (where the record's relative paths resolve) and "
       "<code>--allow-dir DIR</code> for each other directory the recorded files may lie in, since the recorded "
       "paths are the signer's word and only files inside those directories are read.</p>\n";
  return h + appendix(record) + "</body></html>\n";
}

// What every report reads first from the record.
struct Headline {
  explicit Headline(const json& record)
      : r(record.at("result")),
        recipe(record.at("recipe")),
        scheme(recipe.at("scheme")),
        alpha(r.at("alpha").get<double>()),
        log10_p(r.at("log10_p_value").get<double>()) {}
  const json& r;
  const json& recipe;
  const json& scheme;
  double alpha;
  double log10_p;
};

std::string render_detection(const json& record) {
  const Headline head(record);
  const auto& [r, recipe, scheme, alpha, log10_p] = head;
  const bool detected = r.at("detected").get<bool>();
  const json& plot = record.at("plots").at(reported_analysis(record));
  const uint64_t window_min = count(recipe.at("rules").at("window_min"));

  std::string h = page_head(record, "Watermark evidence report", detected);
  h += meaning_section(
      "If this text had never seen our key, a result at least this extreme would happen " + esc(how_often(log10_p)) +
          ".",
      "The p-value is the probability, computed exactly, that text written without the key scores at least as high "
      "as the tested text did. It is corrected for every key and every test that was tried (Holm's method), so "
      "trying several did not make a detection easier." +
          threshold_sentence(alpha, "the watermark counts as detected"));
  h += key_section(record);

  h += "<h2>Method</h2>\n<p id=\"method\">" + esc(method_text(report::recorded_params(scheme))) +
       "</p>\n<p>Each (context, token) pair is scored once across all the text, so copied or repeated passages cannot "
       "inflate the evidence; the first tokens of every document, which lack a full context, are skipped.";
  if (window_min > 0) {
    h += " Every document was also searched for a watermarked passage of at least " + std::to_string(window_min) +
         " scored tokens, with a correction for every window tried.";
  }
  h += "</p>\n";
  h += model_aware_method_html(r);

  h += "<h2>Results</h2>\n<table>" + p_row("p-value", log10_p);
  h += row("detected", detected ? "yes" : "no");
  h += row("documents tested", std::to_string(count_or_zero(r, "documents")));
  h += row("tokens read", std::to_string(count_or_zero(r, "tokens")));
  h += row("unique tokens scored", std::to_string(count(r.at("scored_tokens"))));
  h += row("hypotheses (Holm)", std::to_string(count_or_zero(r, "hypotheses")));
  h += "</table>\n";

  h += "<h2>Plots</h2>\n";
  h += figure("Scores against the null",
              "Every unique scored token, grouped by its score, against the share chance alone would give.",
              report::scores_plot(plot, scheme, "tokens"));
  h += figure(
      "Per-document results",
      "Each document tested on its own, strongest evidence first. A document's bar crosses the alpha line "
      "when that document alone is enough.",
      report::ranked_documents_html(report::detection_documents(record), alpha,
                                    "Evidence per document, strongest first", "unique tokens scored", "detected"));
  h += figure("Evidence growing with tokens",
              "The pooled test over all documents read so far, one point per document in input order: the curve rises "
              "where documents carry the watermark and sinks where unmarked text dilutes it.",
              report::curve_plot(plot, alpha, "unique tokens scored so far", record.at("documents")));
  const std::string window = report::window_plot(plot, scheme);
  if (!window.empty()) {
    h += figure("Windowed detection along a document",
                "The per-token score along the document holding the most watermarked passage.", window);
  }

  std::string rows = row("de-duplication", recipe.at("rules").at("dedup").get<bool>() ? "on" : "off");
  rows +=
      row("window search", window_min > 0 ? "at least " + std::to_string(window_min) + " tokens" : std::string("off"));
  return h + parameters_section(recipe, rows, alpha) + page_tail(record);
}

// How the suspect's tokens were read as ours, where its tokenizer is not the watermark's (the result's "alignment",
// spec/predictions-format.md section 4): the rule and what it left out, so a reader sees how much was not scored.
std::string alignment_rows(const json& r, const json& recipe) {
  if (!r.contains("alignment")) return "";
  const json& a = r.at("alignment");
  std::string h;
  if (recipe.contains("suspect_tokenizer")) h += row("suspect's tokenizer", code(str(recipe, "suspect_tokenizer")));
  const bool first_piece = str(a, "rule") == "first-piece";
  h += row("suspect's tokens read as ours",
           first_piece ? std::string("whole tokens, and a token our tokenizer spells in several pieces as its first "
                                     "piece (the first-piece rule)")
                       : std::string("whole tokens only: a token our tokenizer spells in several pieces is left out"));
  std::string left = std::to_string(count_or_zero(a, "positions")) + " in its own tokens, of which " +
                     std::to_string(count_or_zero(a, "off_watermark_boundary")) +
                     " fall inside one of our tokens (no context of ours ends there)";
  if (str(recipe, "score") != "probability") {
    left += " and " + std::to_string(count_or_zero(a, "top_not_one_watermark_token")) +
            " have a top choice not read as a token of ours";
  }
  h += row("suspect's choices", left + "; these are not scored");
  if (count_or_zero(a, "candidates") > 0) {
    std::string kept = std::to_string(count_or_zero(a, "candidates_one_watermark_token")) + " of " +
                       std::to_string(count_or_zero(a, "candidates"));
    if (first_piece)
      kept += ", " + std::to_string(count_or_zero(a, "candidates_by_first_piece")) + " of them by their first piece";
    h += row("candidates read as a token of ours", kept);
  }
  return h;
}

std::string render_radioactivity(const json& record) {
  const Headline head(record);
  const auto& [r, recipe, scheme, alpha, log10_p] = head;
  const bool detected = r.at("detected").get<bool>();
  const bool open = open_mode(record);
  const json& plot = record.at("plots").at(0);
  // --score probability: the p-value is a bound on a weighted sum's tail, and the plots show the unweighted count.
  const bool weighted = str(r, "score") == "probability";
  const std::string method = weighted && r.contains("null") ? str(r.at("null"), "method") : std::string();

  std::string h = page_head(record, "Model radioactivity evidence report", detected);
  h += "<h2>What was tested</h2>\n<p>";
  h += open ? "A suspect model read text that our model generated with the secret watermark key, and at each position "
              "predicted the next token. A model that learnt from that text tends to predict the tokens the watermark "
              "favours; a model that never saw it does so only by chance."
            : "A suspect model was sent our prompts and its answers were recorded. A model trained on text that our "
              "model generated with the secret watermark key tends to write the tokens the watermark favours; a model "
              "that never saw such text does so only by chance.";
  h += " Each context (the few tokens before a choice) counts once, and only when the suspect had not already been "
       "shown what followed it, so the chance level is exact.</p>\n";
  h += meaning_section(
      "A model that never trained on our key's text would score this high " + std::string(weighted ? "at most " : "") +
          esc(how_often(log10_p)) + ".",
      (weighted ? "The p-value is an upper bound on the probability that a model which never saw text watermarked "
                  "with this key scores at least as high as the suspect did: never smaller than the exact value, so "
                  "never in the suspect's disfavour (" +
                      esc(method) + ")."
                : std::string("The p-value is the probability, computed exactly, that a model which never saw text "
                              "watermarked with this key scores at least as high as the suspect did.")) +
          threshold_sentence(alpha, "the suspect counts as trained on watermarked text"));
  h += "<p id=\"limits\"><strong>Limits.</strong> The test says the suspect model trained on text watermarked with "
       "this key, not who supplied that text to it.</p>\n";
  h += key_section(record);

  h += "<h2>Method</h2>\n<p id=\"method\">" + esc(method_text(report::recorded_params(scheme))) +
       " Here the test is applied to the suspect model's own choices in each context instead of to a text.";
  if (weighted) {
    h += " Here the count is weighted: each token the suspect gave a probability to counts with that probability, so "
         "the score is the suspect's probability on what the watermark favours, added over the contexts. A model that "
         "never saw the key gives a weighted sum whose distribution is known from the weights, and the p-value is a "
         "bound on its upper tail (how, in the results).";
  }
  h += "</p>\n";

  const json& counts = r.at("counts");
  h += "<h2>Results</h2>\n<table>" + p_row("p-value", log10_p);
  h += row("trained on watermarked text", detected ? "yes" : "no");
  h += row("mode",
           open ? "open model: its predictions on our watermarked text" : "closed model: its answers to our prompts");
  if (r.contains("suspect")) h += row("suspect", code(str(r, "suspect")));
  h += row(open ? "records read" : "answers read", std::to_string(count_or_zero(counts, "records")));
  h += row("choices read", std::to_string(count_or_zero(counts, "positions")));
  h += row("scored tuples", std::to_string(count(r.at("scored_tuples"))));
  h += row("favoured share", fmt("%.4g", r.value("favoured_fraction", 0.0)));
  if (weighted) {
    h += row("score", "the suspect's probability on favoured tokens: " + fmt("%.6g", r.value("statistic", 0.0)) +
                          ", where a model without the key gives " + fmt("%.6g", r.value("expected", 0.0)) +
                          " on average");
    h += row("how the p-value is computed", esc(method));
    if (r.contains("unweighted")) {
      const json& u = r.at("unweighted");
      h += row("unweighted count (the plots)", "score " + fmt("%.6g", u.at("statistic").get<double>()) + " over " +
                                                   std::to_string(count(u.at("scored_tuples"))) +
                                                   " tuples, each counted once whatever its probability: p = " +
                                                   p_text(u.at("log10_p_value").get<double>()));
    }
  }
  h += alignment_rows(r, recipe);
  h += "</table>\n";

  h += "<h2>Plots</h2>\n";
  const std::string unweighted =
      weighted ? " Each tuple counts once here, whatever the suspect's probability of it: this is the unweighted count "
                 "of the results table, not the test above, which weights each tuple by that probability."
               : "";
  h += figure("Scores against the null",
              std::string("Every scored tuple (a context and the suspect's ") + (open ? "prediction" : "answer") +
                  " in it), grouped by its score, against the share a model that never saw the key would give." +
                  unweighted,
              report::scores_plot(plot, scheme, "tuples"));
  h += figure("Evidence growing with scored tuples",
              "The pooled test after each further batch of scored tuples, in the order they were read." + unweighted,
              report::curve_plot(plot, alpha, "tuples scored so far"));

  std::string rows = row("predicted ids scored per position", std::to_string(count(recipe.at("top_k"))));
  const std::string filter = recipe.at("filter").get<std::string>();
  if (filter.empty()) {
    rows += row("teacher-context filter", "none: every fresh context counts");
  } else {
    std::string text = code(filter) + " (only contexts our model emitted count)";
    if (r.contains("filter") && r.at("filter").contains("false_positive_rate")) {
      text += "; false-positive rate " + fmt("%.3g", r.at("filter").at("false_positive_rate").get<double>()) +
              ", which only dilutes the evidence and never makes the test easier to pass";
    }
    rows += row("teacher-context filter", text);
  }
  return h + parameters_section(recipe, rows, alpha) + page_tail(record);
}

std::string render_attribution(const json& record) {
  const Headline head(record);
  const auto& [r, recipe, scheme, alpha, log10_p] = head;
  const bool attributed = r.at("attributed").get<bool>();
  const std::string accounts = std::to_string(count(r.at("accounts_tested")));

  std::string h = page_head(record, "Account attribution evidence report", attributed);
  h += "<h2>What was tested</h2>\n<p>Every account of the service receives text marked with its own fingerprint on "
       "top of the shared watermark. The test reads the fingerprint in the tested text and, for each of the " +
       accounts +
       " registered accounts, counts how often the text agrees with that account's fingerprint. Text that "
       "did not come from an account agrees with its fingerprint only at a known chance rate, so each count has an "
       "exact p-value.</p>\n";
  // With several accused accounts, the strongest accusation's p-value is the one stated; each holds on its own.
  const bool several = accused_accounts(r).find(" and ") != std::string::npos;
  h += "<h2>What the p-value means</h2>\n<p class=\"meaning\" id=\"meaning\">";
  h += attributed
           ? "If the text had not come from " + std::string(several ? "the most strongly accused of " : "") +
                 accused_accounts(r) + ", a result at least this extreme would happen " + esc(how_often(log10_p)) + "."
           : std::string("No registered account's fingerprint is strong enough in the text to name it.");
  h += "</p>\n<p id=\"family\">With " + accounts + " registered accounts, an innocent account is named with " +
       "probability at most " + fmt("%g", alpha) + ". Every document and the pooled text were tested against every " +
       "account (" + std::to_string(count(r.at("hypotheses"))) +
       " tests), and Holm's method corrects for all of them, so testing many accounts did not make an accusation "
       "easier. The threshold alpha was fixed before the test.</p>\n";
  h += "<p id=\"limits\"><strong>Limits.</strong> Attribution says which account's outputs the text carries, not who "
       "wrote or leaked it.</p>\n";
  h += key_section(record);

  h += "<h2>Results</h2>\n<table>";
  h += row("attributed", attributed ? "yes: " + esc(accused_accounts(r)) : std::string("no"));
  h += p_row("p-value (strongest accusation)", log10_p);
  h += row("registered accounts", accounts);
  h += row("documents tested", std::to_string(count(r.at("documents"))));
  h += row("hypotheses (Holm)", std::to_string(count(r.at("hypotheses"))));
  for (const json& a : r.at("accusations")) {
    const std::string where =
        a.value("pooled", false) ? std::string("all documents pooled") : "document " + esc(str(a, "label"));
    h += row("account " + std::to_string(count(a.at("account"))),
             where + ": p = " + p_text(a.at("log10_p_value_holm").get<double>()) + " after correction (" +
                 std::to_string(count(a.at("matches"))) + " of " + std::to_string(count(a.at("scored_contexts"))) +
                 " contexts agree)");
  }
  h += "</table>\n";

  h += "<h2>Plots</h2>\n";
  h += figure(
      "Each document's best account",
      "Each document tested on its own against every registered account; its bar is the p-value, after Holm's "
      "correction over the registry, of the account its fingerprint agrees with most. Strongest first. The "
      "accusations in the results table are corrected over every document and the pooled text as well, so "
      "their p-values are larger than these.",
      report::ranked_documents_html(report::attribution_documents(record, alpha), alpha,
                                    "Each document's best account, strongest first", "best account", "attributed"));

  const std::string rows = row("registry", code(recipe.at("registry").get<std::string>()));
  return h + parameters_section(recipe, rows, alpha) + page_tail(record);
}

std::string render(const json& record) {
  switch (test_kind(record)) {
    case TestKind::kRadioactivity: return render_radioactivity(record);
    case TestKind::kAttribution: return render_attribution(record);
    case TestKind::kDetection: break;
  }
  return render_detection(record);
}

}  // namespace

std::string verdict_sentence(const json& record) { return verdict(record, false); }

Result<std::string> render_html_report(const json& record) {
  try {
    return render(record);
  } catch (const json::exception& e) {  // a field parse_record does not check has the wrong type
    return invalid_argument(std::string("record.json: cannot render the report: ") + e.what());
  } catch (const std::invalid_argument& e) {
    return invalid_argument(std::string("record.json: cannot render the report: ") + e.what());
  }
}

}  // namespace telltale::evidence
