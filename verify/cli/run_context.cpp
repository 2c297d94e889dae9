#include "run_context.hpp"

#include <fmt/chrono.h>

#include <ctime>
#include <filesystem>
#include <string>

namespace telltale::cli {

namespace {

std::vector<std::string>& command_line() {
  static std::vector<std::string> argv;
  return argv;
}

std::string utc_now() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

}  // namespace

void set_command_line(int argc, char** argv) { command_line().assign(argv, argv + argc); }

evidence::RunContext run_context(std::span<const KeyRing> keys, const input::Tokenizer& tokenizer,
                                 std::vector<evidence::InputFile> files, const evidence::SigningPublicKey& signer) {
  evidence::RunContext c;
  c.created_utc = utc_now();
  c.command_line = command_line();
  std::error_code ec;
  c.working_directory = std::filesystem::current_path(ec).string();
  c.version = TELLTALE_VERSION;
  c.source_commit = TELLTALE_SOURCE_COMMIT;
  auto exe = input::sha256_file_hex("/proc/self/exe");
  c.executable_sha256 = exe ? *exe : std::string(64, '0');
  for (const KeyRing& k : keys) c.key_ids.push_back(k.key_id_hex());
  c.tokenizer_sha256 = tokenizer.sha256_hex();
  c.tokenizer_kind = tokenizer.kind_name();
  c.vocab_size = static_cast<uint32_t>(tokenizer.vocab_size());
  c.files = std::move(files);
  c.signer_public_key = evidence::to_hex(signer);
  c.signer_public_key_id = evidence::public_key_id(signer);
  return c;
}

}  // namespace telltale::cli
