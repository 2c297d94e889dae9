// `telltale keygen --out FILE`: a new master secret in a fresh 0600 key file; prints only the public key id.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"

namespace telltale::cli {
namespace {

struct KeygenOptions {
  std::string out;
};

int run_keygen(const KeygenOptions& options) {
  auto keys = KeyRing::generate();
  if (!keys) return fail(keys.status());
  if (Status s = write_key_file(*keys, options.out); !s.is_ok()) return fail(s);
  const nlohmann::json out = {{"key_file", options.out}, {"key_id", keys->key_id_hex()}};
  std::printf("%s\n", out.dump().c_str());
  return kExitDetected;
}

}  // namespace

void add_keygen_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<KeygenOptions>();
  CLI::App* cmd = app.add_subcommand("keygen", "Create a new secret key file (mode 0600; never overwrites a file)");
  cmd->add_option("--out,-o", options->out, "the key file to create")->required();
  cmd->callback([options, &exit_code] { exit_code = run_keygen(*options); });
}

}  // namespace telltale::cli
