// Renders an HTML report in headless Chromium for the report tests: the DOM, a PNG screenshot, a PDF print and the
// requests the page made (read from Chromium's net log), with a dead proxy so nothing could leave the machine.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "evidence/bundle.hpp"
#include "run_command.hpp"

namespace telltale::test {

// The browser's path; empty, with a warning that the rendering test did not run, when there is none.
inline std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  WARN("chromium is not installed (scripts/setup installs Debian's chromium): the rendering test did not run");
  return "";
}

// Requests the page made (not the browser's own background traffic): net-log events whose isolation key is the
// file:// page and whose URL is not a file.
inline std::vector<std::string> page_requests(const std::filesystem::path& netlog) {
  const nlohmann::json log = nlohmann::json::parse(slurp(netlog), nullptr, false);
  REQUIRE(!log.is_discarded());
  std::vector<std::string> urls;
  for (const nlohmann::json& e : log.value("events", nlohmann::json::array())) {
    if (!e.contains("params") || !e["params"].is_object()) continue;
    const nlohmann::json& p = e["params"];
    if (!p.contains("url") || !p["url"].is_string() || !p.contains("network_isolation_key")) continue;
    const std::string url = p["url"].get<std::string>();
    if (p["network_isolation_key"].dump().find("file://") != std::string::npos && url.rfind("file:", 0) != 0) {
      urls.push_back(url);
    }
  }
  return urls;
}

struct Rendering {
  telltale::test::CommandResult run;
  std::string dom;
  std::vector<std::string> requests;
};

// One headless Chromium run: DOM on stdout, a PNG screenshot, a PDF print, a net log; a dead proxy so that nothing
// could leave the machine even if the page asked.
inline Rendering render(const std::string& chromium, const std::filesystem::path& page,
                        const std::filesystem::path& work) {
  std::filesystem::create_directories(work);
  const std::string cmd =
      chromium +
      " --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check"
      " --disable-background-networking --disable-component-update --disable-sync --disable-default-apps"
      " --disable-extensions --user-data-dir=" +
      shell_quote((work / "profile").string()) +
      " --enable-logging=stderr --log-level=0 --proxy-server=127.0.0.1:9 --window-size=1000,2400"
      " --log-net-log=" +
      shell_quote((work / "net.json").string()) + " --screenshot=" + shell_quote((work / "report.png").string()) +
      " --print-to-pdf=" + shell_quote((work / "report.pdf").string()) + " --no-pdf-header-footer --dump-dom " +
      shell_quote("file://" + page.string());
  Rendering r;
  r.run = run_command(cmd);
  r.dom = r.run.out;
  r.requests = page_requests(work / "net.json");
  return r;
}

// Chromium ran, made a PNG and a PDF of some size in `work`, and saw no script in the page, no console error, no
// refused or failed load, no request.
inline void check_clean_rendering(const Rendering& r, const std::filesystem::path& work) {
  INFO("chromium stderr: " << r.run.err);
  REQUIRE(r.run.exit_code == 0);
  CHECK(slurp(work / "report.png").rfind("\x89PNG\r\n", 0) == 0);
  CHECK(std::filesystem::file_size(work / "report.png") > 10000);
  CHECK(slurp(work / "report.pdf").rfind("%PDF-", 0) == 0);
  CHECK(std::filesystem::file_size(work / "report.pdf") > 10000);
  CHECK(r.dom.find("<script") == std::string::npos);
  for (const char* bad : {"CONSOLE", "Refused to", "net::ERR_", "Uncaught", "Failed to load"}) {
    INFO("stderr marker: " << bad);
    CHECK(r.run.err.find(bad) == std::string::npos);
  }
  CHECK(r.requests.empty());
}

// A bundle's report rendered into `work` and checked clean; nothing on a machine without Chromium (find_chromium
// warned).
inline std::optional<Rendering> render_report(const std::filesystem::path& bundle, const std::filesystem::path& work) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) return std::nullopt;
  Rendering r = render(chromium, bundle / evidence::kReportFile, work);
  check_clean_rendering(r, work);
  return r;
}

}  // namespace telltale::test
