#include "evidence/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evidence/record.hpp"
#include "evidence/svg_plot.hpp"

namespace telltale::evidence {

namespace {

using nlohmann::json;

constexpr size_t kMaxPlottedDocuments = 400;

std::string esc(const std::string& s) { return html_escape(s); }

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// "3.2 x 10^-45" from log10 p, exact beyond double range.
std::string p_text(double log10_p) {
  if (!(log10_p < -3)) return fmt("%.4g", std::pow(10.0, log10_p));
  const double e = std::floor(log10_p);
  return fmt("%.2g", std::pow(10.0, log10_p - e)) + " &times; 10<sup>" + fmt("%.0f", e) + "</sup>";
}

// A count from the record: a non-negative integer, else the report cannot be rendered (no float-to-integer cast).
uint64_t count(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  throw std::invalid_argument("expected a non-negative integer, got " + j.dump().substr(0, 40));
}
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

std::string method_text(const std::string& scheme) {
  if (scheme == "kgw") {
    return "When the text was generated, the secret key and the few tokens before each position split the vocabulary "
           "into a small &ldquo;green&rdquo; part and a &ldquo;red&rdquo; rest, and green tokens were made more "
           "likely. The test recomputes the split at every position with the key and counts green tokens. Text that "
           "never saw the key hits green only by chance (a fixed fraction, gamma), so the count follows a binomial "
           "law; the p-value is its exact upper tail.";
  }
  if (scheme == "gumbel") {
    return "When the text was generated, the secret key and the preceding tokens gave every vocabulary entry a "
           "pseudorandom number, and the token was drawn in a way that favours tokens with large numbers without "
           "changing the model's output distribution. The test recomputes each chosen token's number r and adds up "
           "&minus;ln(1&nbsp;&minus;&nbsp;r). Text that never saw the key gives a Gamma-distributed sum; the p-value is "
           "its exact upper tail.";
  }
  return "When the text was generated, each token won a tournament of several layers whose matches the secret key "
         "decided (g-values). The test recomputes the g-values of every token and counts the ones. Text that never "
         "saw the key gives fair coin flips, so the count is binomial; the p-value is its exact upper tail.";
}

std::string row(const std::string& name, const std::string& value_html) {
  return "<tr><th>" + esc(name) + "</th><td>" + value_html + "</td></tr>\n";
}
std::string code(const std::string& s) { return "<code>" + esc(s) + "</code>"; }

// `what`: the plural noun for what was scored ("tokens", "tuples").
std::string scores_plot(const json& plot, const json& scheme, const std::string& what) {
  const json& sc = plot.at("scores");
  if (sc.is_null()) return "<p class=\"note\">Not available: the run scored repeated tuples again (--no-dedup).</p>";
  const auto& observed = sc.at("observed");
  const auto& expected = sc.at("expected_under_null");
  const auto& lower = sc.at("bin_lower");
  const size_t n = observed.size();
  double total = 0, top = 0;
  for (size_t b = 0; b < n; ++b) {
    total += observed.at(b).get<double>();
    top = std::max({top, observed.at(b).get<double>(), expected.at(b).get<double>()});
  }
  if (total == 0) return "<p class=\"note\">Nothing was scored.</p>";
  const bool gumbel = scheme.value("name", "") == "gumbel";
  const double width = gumbel ? 0.5 : 1.0;
  const double x0 = lower.at(0).get<double>(), x1 = lower.at(n - 1).get<double>() + width;
  SvgPlot p("plot-scores", "Scores of the tested " + what + " against what chance alone gives",
            gumbel ? "per-token score -ln(1 - r)" : (scheme.value("name", "") == "kgw" ? "0 = red token, 1 = green token"
                                                                                   : "g-values equal to 1 per token"),
            "share of scored " + what, x0, x1, 0, top / total * 1.1);
  for (size_t b = 0; b < n; ++b) {
    const double lo = lower.at(b).get<double>();
    p.bar(lo + 0.08 * width, lo + 0.48 * width, expected.at(b).get<double>() / total, "null");
    p.bar(lo + 0.52 * width, lo + 0.92 * width, observed.at(b).get<double>() / total, "observed");
  }
  p.legend("expected without the key", "null");
  p.legend("observed", "observed");
  return p.render();
}

std::string documents_plot(const json& record, double alpha) {
  const json& docs = record.at("documents");
  if (docs.empty()) return "<p class=\"note\">No documents.</p>";
  const size_t n = std::min(docs.size(), kMaxPlottedDocuments);
  double top = -std::log10(alpha);
  for (size_t i = 0; i < n; ++i) top = std::max(top, -docs.at(i).at("log10_p_value").get<double>());
  SvgPlot p("plot-documents", "Evidence per document (each document tested on its own)", "document (input order)",
            "-log10 p-value", 0, static_cast<double>(n), 0, top * 1.1);
  for (size_t i = 0; i < n; ++i) {
    const double v = -docs.at(i).at("log10_p_value").get<double>();
    p.bar(static_cast<double>(i) + 0.1, static_cast<double>(i) + 0.9, v,
          docs.at(i).value("detected", false) ? "observed" : "null");
  }
  p.reference(-std::log10(alpha), "significance level alpha = " + fmt("%g", alpha));
  std::string out = p.render();
  if (docs.size() > n) {
    out += "<p class=\"note\">The first " + std::to_string(n) + " of " + std::to_string(docs.size()) +
           " documents are shown; the appendix lists all of them.</p>";
  }
  return out;
}

// The pooled test's -log10 p against the count scored so far: the last two columns of each point.
std::string curve_plot(const json& plot, double alpha, const std::string& x_label) {
  const json& points = plot.at("curve").at("points");
  if (points.empty()) return "<p class=\"note\">Nothing was scored.</p>";
  std::vector<double> x, y;
  double top = -std::log10(alpha), right = 1;
  for (const json& pt : points) {
    x.push_back(pt.at(pt.size() - 2).get<double>());
    y.push_back(-pt.at(pt.size() - 1).get<double>());
    top = std::max(top, y.back());
    right = std::max(right, x.back());
  }
  SvgPlot p("plot-curve", "Evidence growing as more is scored", x_label,
            "-log10 p-value of the pooled test", 0, right, 0, top * 1.1);
  p.line(x, y, "curve");
  p.reference(-std::log10(alpha), "alpha = " + fmt("%g", alpha));
  return p.render();
}

std::string window_plot(const json& plot, const json& scheme) {
  const json& w = plot.at("window");
  if (w.is_null()) return "";
  const auto& scores = w.at("scores");
  const size_t n = scores.size();
  if (n == 0) return "";
  const uint64_t start = count(w.at("start")), length = std::max<uint64_t>(1, count(w.at("length")));
  // A moving average over the best window's length: the local favoured fraction (KGW, tournament) or mean score.
  const size_t span = std::min<size_t>(n, length);
  std::vector<double> x, y;
  double sum = 0, top = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += scores.at(i).get<double>();
    if (i >= span) sum -= scores.at(i - span).get<double>();
    if (i + 1 >= span) {
      x.push_back(static_cast<double>(i + 1 - span));
      y.push_back(sum / static_cast<double>(span));
      top = std::max(top, y.back());
    }
  }
  const std::string name = scheme.value("name", "");
  const double layers = std::max(1.0, scheme.value("layers", 1.0));
  const double null_mean = name == "kgw" ? scheme.value("gamma", 0.25) : name == "gumbel" ? 1.0 : layers / 2;
  top = std::max(top, null_mean);
  SvgPlot p("plot-window", "Windowed detection along the document with the strongest passage",
            "position in the document (scored tokens)", "moving average over " + std::to_string(span) + " tokens", 0,
            static_cast<double>(n), 0, top * 1.15);
  p.band(static_cast<double>(start), static_cast<double>(start + length),
         "best window, p = " + fmt("%.2g", std::pow(10.0, w.at("log10_p_value").get<double>())) + " corrected");
  p.line(x, y, "curve");
  p.reference(null_mean, "expected without the key");
  std::string out = p.render();
  out += "<p class=\"note\">Document: " + code(w.at("source").value("source", "")) + " (document " +
         std::to_string(count(w.at("document")) + 1) + " in input order). The shaded band is the window with the "
         "smallest p-value, which is corrected for every window tried.</p>";
  return out;
}

constexpr const char* kStyle = R"(
body{font-family:Georgia,'DejaVu Serif',serif;max-width:50em;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}
.verdict{font-size:1.25em;padding:.8em 1em;border:2px solid #333;margin:1em 0}
.verdict.detected{background:#fbeaea;border-color:#a33}.verdict.not-detected{background:#eef5ee;border-color:#393}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{text-align:left;vertical-align:top;padding:.25em .5em;
border-bottom:1px solid #ddd}th{width:28%;font-weight:normal;color:#444}code,pre{font-family:'DejaVu Sans Mono',monospace;
font-size:.85em;word-break:break-all}pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
svg.plot{width:100%;height:auto;margin:.5em 0;font-family:'DejaVu Sans',sans-serif}
svg .axis{stroke:#333}svg .grid{stroke:#e4e4e4}svg .tick{font-size:11px;fill:#333}svg .label{font-size:12px;fill:#111}
svg .null{fill:#b8b8b8}svg .observed{fill:#b03a2e}svg .curve{stroke:#b03a2e;stroke-width:2}
svg .ref{stroke:#333;stroke-dasharray:5 4}svg .reflabel{font-size:11px;fill:#333}svg .band{fill:#f3d36b;opacity:.5}
.note{font-size:.9em;color:#444}.meaning{font-size:1.05em}
@media print{body{margin:0;max-width:none;font-size:10.5pt}h2{break-after:avoid}svg.plot,table,.verdict{break-inside:avoid}
pre{font-size:7pt}.appendix{break-before:page}@page{size:A4;margin:18mm}}
)";

std::string detection_verdict(const json& record) {
  const json& r = record.at("result");
  const bool detected = r.at("detected").get<bool>();
  const std::string key = str(r, "key_id").substr(0, 16);
  const std::string docs = std::to_string(count_or_zero(r, "documents"));
  if (detected) {
    return "The watermark of key " + key + "&hellip; was detected in the tested text (" + docs +
           " document(s)): p = " + p_text(r.at("log10_p_value").get<double>()) + ", below the significance level " +
           fmt("%g", r.at("alpha").get<double>()) + " chosen in advance.";
  }
  return "The watermark of key " + key + "&hellip; was not detected in the tested text (" + docs + " document(s)): p = " +
         p_text(r.at("log10_p_value").get<double>()) + ", not below the significance level " +
         fmt("%g", r.at("alpha").get<double>()) + " chosen in advance.";
}

bool open_mode(const json& record) { return record.at("recipe").at("mode").get<std::string>() == "open"; }

std::string radioactivity_verdict(const json& record) {
  const json& r = record.at("result");
  const std::string key = str(r, "key_id").substr(0, 16);
  const std::string tuples = std::to_string(count(r.at("scored_tuples")));
  const std::string what = open_mode(record) ? "predictions on our watermarked text" : "answers to our prompts";
  return std::string("The suspect model's ") + what + (r.at("detected").get<bool>() ? " show" : " do not show") +
         " that it was trained on text watermarked with key " + key + "&hellip; (" + tuples + " scored tuples): p = " +
         p_text(r.at("log10_p_value").get<double>()) + (r.at("detected").get<bool>() ? ", below" : ", not below") +
         " the significance level " + fmt("%g", r.at("alpha").get<double>()) + " chosen in advance.";
}

std::string page_head(const json& record, const std::string& title, bool detected, const std::string& verdict) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
                  "<title>" + title + "</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>" + title + "</h1>\n";
  h += "<p class=\"note\">Made by telltale " + esc(record.at("software").at("version").get<std::string>()) + " on " +
       esc(record.at("created_utc").get<std::string>()) + ". Signed with Ed25519 key " +
       code(record.at("signer").at("public_key_id").get<std::string>()) + ".</p>\n";
  h += std::string("<p id=\"verdict\" class=\"verdict ") + (detected ? "detected" : "not-detected") + "\">" + verdict +
       "</p>\n";
  return h;
}

std::string key_section(const json& record) {
  std::string h = "<h2>The key, fixed in advance</h2>\n<p>The secret key itself never appears in this report. Its "
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

// The scheme's rows of the parameters table.
std::string scheme_rows(const json& scheme) {
  std::string h = row("scheme", code(scheme.at("name").get<std::string>()));
  if (scheme.at("name") == "kgw" || scheme.at("name") == "fingerprint") {
    h += row("gamma (green fraction)", fmt("%g", scheme.at("gamma").get<double>()));
    h += row("delta (logit bias)", fmt("%g", scheme.at("delta").get<double>()));
  }
  if (scheme.at("name") == "fingerprint") {
    h += row("account delta (account layer's logit bias)", fmt("%g", scheme.at("account_delta").get<double>()));
  }
  if (scheme.at("name") == "tournament") h += row("layers", std::to_string(count(scheme.at("layers"))));
  h += row("context width h", std::to_string(count(scheme.at("context_width"))));
  h += row("seeding", scheme.at("self_hash").get<bool>() ? "self-hash" : "left-hash");
  h += row("vocabulary size", std::to_string(count(scheme.at("vocab_size"))));
  return h;
}

// The bytes tested, the software and provenance, how to check the bundle, and the record as an appendix.
std::string page_tail(const json& record) {
  std::string h = "<h2>Exactly which bytes were tested</h2>\n<table>";
  h += row("tokenizer " + record.at("tokenizer").at("path").get<std::string>(), code(record.at("tokenizer").at("sha256").get<std::string>()));
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
  h += "</table>\n<p>To check this bundle: <code>telltale report verify BUNDLE --pubkey signing.pub</code> checks the "
       "signature and every hash; adding <code>--key</code> with the watermark key re-runs the test on the same bytes "
       "and confirms every number.</p>\n";

  h += "<h2 class=\"appendix\">Appendix: the full record</h2>\n<pre id=\"record\">" + esc(record.dump(1)) + "</pre>\n";
  h += "</body></html>\n";
  return h;
}

// What every report reads first from the record.
struct Headline {
  explicit Headline(const json& record)
      : r(record.at("result")), recipe(record.at("recipe")), scheme(recipe.at("scheme")),
        alpha(r.at("alpha").get<double>()), log10_p(r.at("log10_p_value").get<double>()),
        detected(r.at("detected").get<bool>()) {}
  const json& r;
  const json& recipe;
  const json& scheme;
  double alpha;
  double log10_p;
  bool detected;
};

std::string render_detection(const json& record) {
  const Headline head(record);
  const auto& [r, recipe, scheme, alpha, log10_p, detected] = head;
  const json& plot = record.at("plots").at(reported_analysis(record));

  std::string h = page_head(record, "Watermark evidence report", detected, detection_verdict(record));
  h += "<h2>What the p-value means</h2>\n<p class=\"meaning\" id=\"meaning\">If this text had never seen our key, a "
       "result at least this extreme would happen " + esc(once_in(log10_p)) + ".</p>\n";
  h += "<p>The p-value is the probability, computed exactly, that text written without the key scores at least as "
       "high as the tested text did. It is corrected for every key and every test that was tried (Holm's method), so "
       "trying several did not make a detection easier. The threshold alpha = " + fmt("%g", alpha) +
       " was fixed before the test; the watermark counts as detected only when the p-value is at or below it.</p>\n";
  h += key_section(record);

  h += "<h2>Method</h2>\n<p>" + method_text(scheme.value("name", "")) + "</p>\n<p>Each (context, token) pair is "
       "scored once across all the text, so copied or repeated passages cannot inflate the evidence; the first tokens "
       "of every document, which lack a full context, are skipped.";
  if (count(recipe.at("rules").at("window_min")) > 0) {
    h += " Every document was also searched for a watermarked passage of at least " +
         std::to_string(count(recipe.at("rules").at("window_min"))) +
         " scored tokens, with a correction for every window tried.";
  }
  h += "</p>\n";

  h += "<h2>Results</h2>\n<table>";
  h += row("p-value", p_text(log10_p) + " (log10 p = " + fmt("%.6g", log10_p) + ")");
  h += row("detected", detected ? "yes" : "no");
  h += row("documents tested", std::to_string(count_or_zero(r, "documents")));
  h += row("tokens read", std::to_string(count_or_zero(r, "tokens")));
  h += row("unique tokens scored", std::to_string(count(r.at("scored_tokens"))));
  h += row("hypotheses (Holm)", std::to_string(count_or_zero(r, "hypotheses")));
  h += "</table>\n";

  h += "<h2>Plots</h2>\n<h3>Scores against the null</h3>\n" + scores_plot(plot, scheme, "tokens");
  h += "<h3>Per-document p-values</h3>\n" + documents_plot(record, alpha);
  h += "<h3>Evidence growing with tokens</h3>\n" + curve_plot(plot, alpha, "unique tokens scored so far");
  const std::string window = window_plot(plot, scheme);
  if (!window.empty()) h += "<h3>Windowed detection along a document</h3>\n" + window;

  h += "<h2>Parameters</h2>\n<table>" + scheme_rows(scheme);
  h += row("de-duplication", recipe.at("rules").at("dedup").get<bool>() ? "on" : "off");
  h += row("window search", count(recipe.at("rules").at("window_min")) > 0
                                ? "at least " + std::to_string(count(recipe.at("rules").at("window_min"))) + " tokens"
                                : std::string("off"));
  h += row("alpha", fmt("%g", alpha));
  if (!recipe.at("field").get<std::string>().empty()) h += row("JSONL field", code(recipe.at("field").get<std::string>()));
  if (!recipe.at("prompt").get<std::string>().empty()) h += row("known prompt", code(recipe.at("prompt").get<std::string>()));
  h += "</table>\n";
  return h + page_tail(record);
}

std::string render_radioactivity(const json& record) {
  const Headline head(record);
  const auto& [r, recipe, scheme, alpha, log10_p, detected] = head;
  const bool open = open_mode(record);
  const json& plot = record.at("plots").at(0);

  std::string h = page_head(record, "Model radioactivity evidence report", detected, radioactivity_verdict(record));
  h += "<h2>What was tested</h2>\n<p>";
  h += open ? "A suspect model read text that our model generated with the secret watermark key, and at each position "
              "predicted the next token. A model that learnt from that text tends to predict the tokens the watermark "
              "favours; a model that never saw it does so only by chance."
            : "A suspect model was sent our prompts and its answers were recorded. A model trained on text that our "
              "model generated with the secret watermark key tends to write the tokens the watermark favours; a model "
              "that never saw such text does so only by chance.";
  h += " Each context (the few tokens before a choice) counts once, and only when the suspect had not already been "
       "shown what followed it, so the chance level is exact.</p>\n";
  h += "<h2>What the p-value means</h2>\n<p class=\"meaning\" id=\"meaning\">A model that never trained on our key's "
       "text would score this high " + esc(once_in(log10_p)) + ".</p>\n";
  h += "<p>The p-value is the probability, computed exactly, that a model which never saw text watermarked with this "
       "key scores at least as high as the suspect did. The threshold alpha = " + fmt("%g", alpha) +
       " was fixed before the test; the suspect counts as trained on watermarked text only when the p-value is at or "
       "below it.</p>\n";
  h += "<p id=\"limits\"><strong>Limits.</strong> The test says the suspect model trained on text watermarked with "
       "this key, not who supplied that text to it.</p>\n";
  h += key_section(record);

  h += "<h2>Method</h2>\n<p>" + method_text(scheme.value("name", "")) + " Here the test is applied to the suspect "
       "model's own choices in each context instead of to a text.</p>\n";

  const json& counts = r.at("counts");
  h += "<h2>Results</h2>\n<table>";
  h += row("p-value", p_text(log10_p) + " (log10 p = " + fmt("%.6g", log10_p) + ")");
  h += row("trained on watermarked text", detected ? "yes" : "no");
  h += row("mode", open ? "open model: its predictions on our watermarked text" : "closed model: its answers to our prompts");
  if (r.contains("suspect")) h += row("suspect", code(str(r, "suspect")));
  h += row(open ? "records read" : "answers read", std::to_string(count_or_zero(counts, "records")));
  h += row("choices read", std::to_string(count_or_zero(counts, "positions")));
  h += row("scored tuples", std::to_string(count(r.at("scored_tuples"))));
  h += row("favoured share", fmt("%.4g", r.value("favoured_fraction", 0.0)));
  h += "</table>\n";

  h += "<h2>Plots</h2>\n<h3>Scores against the null</h3>\n" + scores_plot(plot, scheme, "tuples");
  h += "<h3>Evidence growing with scored tuples</h3>\n" + curve_plot(plot, alpha, "tuples scored so far");

  h += "<h2>Parameters</h2>\n<table>" + scheme_rows(scheme);
  h += row("predicted ids scored per position", std::to_string(count(recipe.at("top_k"))));
  const std::string filter = recipe.at("filter").get<std::string>();
  if (filter.empty()) {
    h += row("teacher-context filter", "none: every fresh context counts");
  } else {
    std::string text = code(filter) + " (only contexts our model emitted count)";
    if (r.contains("filter") && r.at("filter").contains("false_positive_rate")) {
      text += "; false-positive rate " + fmt("%.3g", r.at("filter").at("false_positive_rate").get<double>()) +
              ", which only dilutes the evidence and never makes the test easier to pass";
    }
    h += row("teacher-context filter", text);
  }
  h += row("alpha", fmt("%g", alpha));
  h += "</table>\n";
  return h + page_tail(record);
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

std::string attribution_verdict(const json& record) {
  const json& r = record.at("result");
  const std::string docs = std::to_string(count(r.at("documents")));
  const std::string accounts = std::to_string(count(r.at("accounts_tested")));
  const std::string level = fmt("%g", r.at("alpha").get<double>());
  if (r.at("attributed").get<bool>()) {
    return "The tested text (" + docs + " document(s)) carries the fingerprint of registered " + accused_accounts(r) +
           ", out of " + accounts + " registered accounts: the strongest accusation has p = " +
           p_text(r.at("log10_p_value").get<double>()) + " after correction, below the significance level " + level +
           " chosen in advance.";
  }
  return "The tested text (" + docs + " document(s)) is not attributed to any of the " + accounts +
         " registered accounts: no accusation reaches the significance level " + level + " chosen in advance.";
}

// Each document's best account: -log10 of its p-value after Holm over the registry.
std::string best_account_plot(const json& plot, double alpha) {
  const json& points = plot.at("curve").at("points");
  if (points.empty()) return "<p class=\"note\">No document had a scored context.</p>";
  const size_t n = std::min(points.size(), kMaxPlottedDocuments);
  double top = -std::log10(alpha);
  for (size_t i = 0; i < n; ++i) top = std::max(top, -points.at(i).at(2).get<double>());
  SvgPlot p("plot-documents", "Each document's best account (tested on its own, corrected over the registry)",
            "document (input order)", "-log10 p-value of its best account", 0, static_cast<double>(n), 0, top * 1.1);
  for (size_t i = 0; i < n; ++i) {
    const double v = -points.at(i).at(2).get<double>();
    p.bar(static_cast<double>(i) + 0.1, static_cast<double>(i) + 0.9, v, v >= -std::log10(alpha) ? "observed" : "null");
  }
  p.reference(-std::log10(alpha), "significance level alpha = " + fmt("%g", alpha));
  return p.render();
}

std::string render_attribution(const json& record) {
  const json& r = record.at("result");
  const json& recipe = record.at("recipe");
  const json& scheme = recipe.at("scheme");
  const double alpha = r.at("alpha").get<double>();
  const double log10_p = r.at("log10_p_value").get<double>();
  const bool attributed = r.at("attributed").get<bool>();
  const std::string accounts = std::to_string(count(r.at("accounts_tested")));

  std::string h = page_head(record, "Account attribution evidence report", attributed, attribution_verdict(record));
  h += "<h2>What was tested</h2>\n<p>Every account of the service receives text marked with its own fingerprint on "
       "top of the shared watermark. The test reads the fingerprint in the tested text and, for each of the " +
       accounts + " registered accounts, counts how often the text agrees with that account's fingerprint. Text that "
       "did not come from an account agrees with its fingerprint only at a known chance rate, so each count has an "
       "exact p-value.</p>\n";
  h += "<h2>What the p-value means</h2>\n<p class=\"meaning\" id=\"meaning\">";
  // With several accused accounts, the strongest accusation's p-value is the one stated; each holds on its own.
  const bool several = accused_accounts(r).find(" and ") != std::string::npos;
  h += attributed ? "If the text had not come from " + std::string(several ? "the most strongly accused of " : "") +
                        accused_accounts(r) + ", a result at least this extreme would happen " +
                        esc(once_in(log10_p)) + "."
                  : std::string("No registered account's fingerprint is strong enough in the text to name it.");
  h += "</p>\n<p id=\"family\">With " + accounts + " registered accounts, an innocent account is named with "
       "probability at most " + fmt("%g", alpha) + ". Every document and the pooled text were tested against every "
       "account (" + std::to_string(count(r.at("hypotheses"))) + " tests), and Holm's method corrects for all of them, "
       "so testing many accounts did not make an accusation easier. The threshold alpha was fixed before the test.</p>\n";
  h += "<p id=\"limits\"><strong>Limits.</strong> Attribution says which account's outputs the text carries, not who "
       "wrote or leaked it.</p>\n";
  h += key_section(record);

  h += "<h2>Results</h2>\n<table>";
  h += row("attributed", attributed ? "yes: " + esc(accused_accounts(r)) : std::string("no"));
  h += row("p-value (strongest accusation)", p_text(log10_p) + " (log10 p = " + fmt("%.6g", log10_p) + ")");
  h += row("registered accounts", accounts);
  h += row("documents tested", std::to_string(count(r.at("documents"))));
  h += row("hypotheses (Holm)", std::to_string(count(r.at("hypotheses"))));
  for (const json& a : r.at("accusations")) {
    const std::string where = a.value("pooled", false) ? std::string("all documents pooled")
                                                       : "document " + esc(str(a, "label"));
    h += row("account " + std::to_string(count(a.at("account"))),
             where + ": p = " + p_text(a.at("log10_p_value_holm").get<double>()) + " after correction (" +
                 std::to_string(count(a.at("matches"))) + " of " + std::to_string(count(a.at("scored_contexts"))) +
                 " contexts agree)");
  }
  h += "</table>\n";

  h += "<h2>Plots</h2>\n" + best_account_plot(record.at("plots").at(0), alpha);

  h += "<h2>Parameters</h2>\n<table>" + scheme_rows(scheme);
  h += row("registry", code(recipe.at("registry").get<std::string>()));
  h += row("alpha", fmt("%g", alpha));
  if (!recipe.at("field").get<std::string>().empty()) h += row("JSONL field", code(recipe.at("field").get<std::string>()));
  if (!recipe.at("prompt").get<std::string>().empty()) h += row("known prompt", code(recipe.at("prompt").get<std::string>()));
  h += "</table>\n";
  return h + page_tail(record);
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

std::string verdict_sentence(const json& record) {
  switch (test_kind(record)) {
    case TestKind::kRadioactivity: return radioactivity_verdict(record);
    case TestKind::kAttribution: return attribution_verdict(record);
    case TestKind::kDetection: break;
  }
  return detection_verdict(record);
}

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
