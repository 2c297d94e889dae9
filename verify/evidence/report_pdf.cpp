// Printing the report to PDF with headless Chromium: the HTML, with the page footer added, goes to a private
// temporary directory that also holds the browser's profile; the browser runs in its own process group with a dead
// proxy (nothing can leave the machine) and is killed when it overruns kPdfTimeoutSeconds.
#include "evidence/report_pdf.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "evidence/bundle.hpp"
#include "input/tokenizer.hpp"

extern char** environ;

namespace telltale::evidence {

namespace {

namespace fs = std::filesystem;

constexpr const char* kMissing =
    "cannot make the PDF: Chromium is not installed (install the Debian package chromium: apt install chromium)";

// A directory only this run uses, removed with everything in it when done.
class TempDir {
 public:
  static Result<TempDir> create() {
    std::string pattern = (fs::temp_directory_path() / "telltale-pdf-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return io_error(std::string("cannot make a temporary directory for Chromium: ") + std::strerror(errno));
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempDir(fs::path p) : path_(std::move(p)) {}
  fs::path path_;
};

Status write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  out.close();
  if (!out) return io_error(path.string() + ": cannot write the page for Chromium");
  return Status::ok();
}

// The environment for the browser: ours, with HOME and the XDG directories inside the private directory, so that
// nothing is read from or left in the user's profile.
std::vector<std::string> browser_environment(const fs::path& home) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v(*e);
    if (v.rfind("HOME=", 0) == 0 || v.rfind("XDG_", 0) == 0) continue;
    env.push_back(v);
  }
  for (const char* name : {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"}) {
    env.push_back(std::string(name) + "=" + home.string());
  }
  return env;
}

// Runs the browser with `args` and waits at most kPdfTimeoutSeconds; its output goes to `log`.
Status run_browser(const std::string& chromium, const std::vector<std::string>& args, const fs::path& home,
                   const fs::path& log) {
  std::vector<std::string> env = browser_environment(home);
  std::vector<char*> argv, envp;
  argv.push_back(const_cast<char*>(chromium.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return io_error(log.string() + ": cannot create: " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return io_error(std::string("cannot start Chromium: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group: a timeout kills the browser and every helper it started
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(chromium.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out);
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kPdfTimeoutSeconds);
  int status = 0;
  bool done = false;
  while (!done) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) {
      done = true;
    } else if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return io_error("cannot make the PDF: Chromium did not finish within " + std::to_string(kPdfTimeoutSeconds) +
                      " seconds and was stopped");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ::kill(-pid, SIGKILL);  // helpers the browser left behind
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return io_error("cannot make the PDF: Chromium failed (exit status " + std::to_string(code) + ")");
  }
  return Status::ok();
}

// Only letters, digits, spaces and commas (the footer's hex digests and separators): nothing that could end or escape
// a CSS string.
std::string css_safe(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(),
                         [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == ','); }),
          s.end());
  return s;
}

}  // namespace

Result<std::string> find_chromium() {
  if (const char* forced = std::getenv("TELLTALE_CHROMIUM")) {
    if (*forced != '\0' && ::access(forced, X_OK) == 0) return std::string(forced);
    return invalid_argument(kMissing);
  }
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(p, X_OK) == 0) return std::string(p);
  }
  return invalid_argument(kMissing);
}

PdfFooter pdf_footer(const std::string& record_json) {
  PdfFooter footer;
  footer.record_sha256 = input::sha256_hex(record_json);
  const nlohmann::json record = nlohmann::json::parse(record_json, nullptr, false);
  if (record.is_object() && record.contains("watermark_keys") && record["watermark_keys"].is_array()) {
    for (const nlohmann::json& k : record["watermark_keys"]) {
      if (!k.is_object() || !k.contains("key_id") || !k["key_id"].is_string()) continue;
      footer.key_ids += (footer.key_ids.empty() ? "" : ", ") + k["key_id"].get<std::string>();
    }
  }
  return footer;
}

Result<std::string> render_pdf(const std::string& html, const PdfFooter& footer) {
  auto chromium = find_chromium();
  if (!chromium) return chromium.status();
  auto dir = TempDir::create();
  if (!dir) return dir.status();
  const fs::path page = dir->path() / "report.html", pdf = dir->path() / kPdfFile;
  // The footer, in a page margin box of every printed page beside the page numbers (bundles made before the report
  // numbered its pages get them too); "\B7 " is CSS for
  // a middle dot.
  const std::string text =
      "Watermark key id " + css_safe(footer.key_ids) + " \\B7  record.json SHA-256 " + css_safe(footer.record_sha256);
  const std::string style = "<style>@page{@bottom-left{content:\"" + text +
                            "\";font:6.5pt 'DejaVu Sans Mono',monospace;color:#444;width:78%}"
                            "@bottom-right{content:\"page \" counter(page) \" of \" counter(pages);"
                            "font:8pt 'DejaVu Sans',sans-serif;color:#444}}</style>\n";
  std::string with_footer = html;
  const size_t head = with_footer.find("</head>");
  with_footer.insert(head == std::string::npos ? 0 : head, style);
  TT_RETURN_IF_ERROR(write_file(page, with_footer));
  const std::vector<std::string> args = {"--headless",
                                         "--no-sandbox",
                                         "--disable-gpu",
                                         "--no-first-run",
                                         "--no-default-browser-check",
                                         "--disable-background-networking",
                                         "--disable-component-update",
                                         "--disable-sync",
                                         "--disable-default-apps",
                                         "--disable-extensions",
                                         "--proxy-server=127.0.0.1:9",
                                         "--proxy-bypass-list=<-loopback>",
                                         "--user-data-dir=" + (dir->path() / "profile").string(),
                                         "--no-pdf-header-footer",
                                         "--print-to-pdf=" + pdf.string(),
                                         "file://" + page.string()};
  TT_RETURN_IF_ERROR(run_browser(*chromium, args, dir->path(), dir->path() / "chromium.log"));
  std::ifstream in(pdf, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string out = bytes.str();
  if (out.rfind("%PDF-", 0) != 0) return io_error("cannot make the PDF: Chromium wrote no PDF");
  return out;
}

Result<std::string> bundle_pdf(const std::string& dir, const SigningPublicKey& key) {
  auto files = read_bundle_files(dir);
  if (!files) return files.status();
  auto record = verify_bundle_files(dir, *files, key);
  if (!record) return record.status();
  return render_pdf(files->at(kReportFile), pdf_footer(files->at(kRecordFile)));
}

}  // namespace telltale::evidence
