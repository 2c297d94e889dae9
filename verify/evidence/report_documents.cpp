// The per-document part of the report: documents ranked by p-value, the strongest plotted with their names and
// listed in a table, with a count of the ones left out.
#include "evidence/report_documents.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "evidence/report_plots.hpp"
#include "evidence/svg_plot.hpp"

namespace telltale::evidence::report {

using nlohmann::json;

namespace {

constexpr size_t kMaxNameChars = 36;

}  // namespace

std::string short_document_name(const std::string& name) {
  if (name.size() <= kMaxNameChars) return name;
  return "..." + name.substr(name.size() - (kMaxNameChars - 3));
}

std::string document_name(const json& document) {
  std::string name = document.value("source", std::string("(unnamed)"));
  const uint64_t line = document.contains("line") ? count(document.at("line")) : 0;
  const uint64_t index = document.contains("index") ? count(document.at("index")) : 0;
  if (line > 0) return name + ":" + std::to_string(line);
  if (index > 0) return name + " part " + std::to_string(index + 1);
  return name;
}

std::vector<RankedDocument> detection_documents(const json& record) {
  std::vector<RankedDocument> out;
  for (const json& d : record.at("documents")) {
    RankedDocument r;
    r.name = document_name(d);
    r.log10_p = d.at("log10_p_value").get<double>();
    r.flagged = d.value("detected", false);
    if (d.contains("scored_tokens")) r.detail = std::to_string(count(d.at("scored_tokens")));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RankedDocument> attribution_documents(const json& record, double alpha) {
  std::map<uint64_t, std::string> labels;  // document -> its name, for the documents an accusation names
  for (const json& a : record.at("result").at("accusations")) {
    if (a.contains("document") && a.contains("label"))
      labels[count(a.at("document"))] = a.at("label").get<std::string>();
  }
  std::vector<RankedDocument> out;
  for (const json& pt : record.at("plots").at(0).at("curve").at("points")) {
    RankedDocument r;
    const uint64_t doc = count(pt.at(0));
    const auto it = labels.find(doc);
    r.name = it != labels.end() ? it->second : "document " + std::to_string(doc + 1);
    r.detail = "account " + std::to_string(count(pt.at(1)));
    r.log10_p = pt.at(2).get<double>();
    r.flagged = r.log10_p <= std::log10(alpha);
    out.push_back(std::move(r));
  }
  return out;
}

std::string ranked_documents_html(std::vector<RankedDocument> documents, double alpha, const std::string& plot_title,
                                  const std::string& detail_heading, const std::string& flag) {
  if (documents.empty()) return "<p class=\"note\">No documents.</p>";
  // Strongest first; equal p-values keep input order.
  std::stable_sort(documents.begin(), documents.end(),
                   [](const RankedDocument& a, const RankedDocument& b) { return a.log10_p < b.log10_p; });
  const size_t plotted = std::min(documents.size(), kMaxPlottedDocuments);
  const size_t listed = std::min(documents.size(), kMaxListedDocuments);
  const size_t flagged = static_cast<size_t>(
      std::count_if(documents.begin(), documents.end(), [](const RankedDocument& d) { return d.flagged; }));

  double right = -std::log10(alpha);
  std::vector<std::string> names;
  for (size_t i = 0; i < plotted; ++i) {
    right = std::max(right, -documents[i].log10_p);
    names.push_back(std::to_string(i + 1) + ". " + short_document_name(documents[i].name));
  }
  SvgPlot p("plot-documents", plot_title, "-log10 p-value (longer bar: stronger evidence)", "", 0, right * 1.1, 0, 1);
  p.y_categories(std::move(names));
  for (size_t i = 0; i < plotted; ++i) {
    p.row_bar(i, -documents[i].log10_p, documents[i].flagged ? "observed" : "null");
  }
  p.reference_x(-std::log10(alpha), "alpha = " + fmt("%g", alpha));
  p.legend(flag, "observed");
  p.legend("not " + flag, "null");

  std::string h = p.render();
  h += "<p class=\"note\" id=\"documents-count\">" + std::to_string(flagged) + " of " +
       std::to_string(documents.size()) + " document(s) " + flag + " on their own at alpha = " + fmt("%g", alpha) +
       (plotted < documents.size() ? "; the plot shows the " + std::to_string(plotted) + " strongest" : "") +
       ".</p>\n<table id=\"documents-table\"><tr><th>rank</th><th>document</th><th>" + esc(detail_heading) +
       "</th><th>p-value</th><th>" + esc(flag) + "</th></tr>\n";
  for (size_t i = 0; i < listed; ++i) {
    const RankedDocument& d = documents[i];
    h += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + code(d.name) + "</td><td>" + esc(d.detail) + "</td><td>" +
         p_text(d.log10_p) + "</td><td>" + (d.flagged ? "yes" : "no") + "</td></tr>\n";
  }
  h += "</table>\n";
  if (listed < documents.size()) {
    h += "<p class=\"note\" id=\"documents-more\">... and " + std::to_string(documents.size() - listed) +
         " more document(s), all weaker than those listed; record.json lists every one.</p>\n";
  }
  return h;
}

}  // namespace telltale::evidence::report
