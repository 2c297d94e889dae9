// The closed-model client's parsers of untrusted bytes: a suspect server's reply (both APIs), its error excerpt,
// and the resumable query log read back from disk. Replies must parse or fail with one line; the log must open,
// refuse with one line, or cut off a torn last line, and never crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "query/openai_protocol.hpp"
#include "query/query_log.hpp"

namespace {

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

// No byte that could drive a terminal: every control byte of the server's text arrives escaped.
bool no_control_bytes(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (auto api : {telltale::query::Api::kChat, telltale::query::Api::kCompletions}) {
    auto r = telltale::query::parse_reply(api, bytes);
    if (!r.is_ok()) FUZZ_CHECK(one_line(r.status().message()) && no_control_bytes(r.status().message()));
  }
  const std::string excerpt = telltale::query::reply_error_excerpt(bytes);
  // Each of at most kExcerptBytes bytes escaped as \xNN at worst, then "...".
  FUZZ_CHECK(excerpt.size() <= 4 * telltale::query::kExcerptBytes + 3 && no_control_bytes(excerpt));

  static const std::string path = "/tmp/fuzz_query_log." + std::to_string(::getpid());
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    const nlohmann::json header = {{"telltale_query_log", 1}, {"model", "m"}};
    auto log = telltale::query::QueryLog::open(path, header);
    if (!log.is_ok()) FUZZ_CHECK(one_line(log.status().message()));
    std::remove(path.c_str());
  }
  return 0;
}
