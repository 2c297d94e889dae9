// `telltale keygen --out FILE`: a new master secret in a fresh 0600 key file; prints only the public key id. With
// --signing, an Ed25519 key pair for signing evidence bundles.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/signing_key.hpp"

namespace telltale::cli {
namespace {

struct KeygenOptions {
  std::string out;
  bool signing = false;
};

// An Ed25519 signing key pair for evidence bundles: the secret in OUT (0600), the public key in OUT.pub.
int run_signing_keygen(const KeygenOptions& options) {
  const std::string pub = options.out + ".pub";
  std::error_code ec;
  if (std::filesystem::exists(pub, ec)) return fail(pub + ": already exists (refusing to overwrite)");
  auto key = evidence::SigningKey::generate();
  if (!key) return fail(key.status());
  if (Status s = key->write(options.out); !s.is_ok()) return fail(s);
  std::ofstream out(pub, std::ios::binary);
  out << evidence::public_key_text(key->public_key());
  out.flush();
  if (!out) return fail(pub + ": cannot write the public key");
  const nlohmann::json j = {{"signing_key_file", options.out},
                            {"public_key_file", pub},
                            {"public_key_id", evidence::public_key_id(key->public_key())}};
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

int run_keygen(const KeygenOptions& options) {
  if (options.signing) return run_signing_keygen(options);
  auto keys = KeyRing::generate();
  if (!keys) return fail(keys.status());
  if (Status s = write_key_file(*keys, options.out); !s.is_ok()) return fail(s);
  const nlohmann::json out = {{"key_file", options.out}, {"key_id", keys->key_id_hex()}};
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

}  // namespace

void add_keygen_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<KeygenOptions>();
  CLI::App* cmd = app.add_subcommand("keygen", "Create a new secret key file (mode 0600; never overwrites a file)");
  cmd->add_option("--out,-o", options->out, "the key file to create")->required();
  cmd->add_flag("--signing", options->signing,
                "make an Ed25519 key pair for signing evidence bundles instead: the secret in OUT, the public key in "
                "OUT.pub");
  cmd->callback([options, &exit_code] { exit_code = run_keygen(*options); });
}

}  // namespace telltale::cli
