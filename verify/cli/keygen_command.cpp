// `telltale keygen --out FILE`: a new master secret in a fresh 0600 key file; prints only the public key id. With
// --signing, an Ed25519 key pair for signing evidence bundles.
#include <unistd.h>

#include <cstdio>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/signing_key.hpp"
#include "telltale/new_file.hpp"

namespace telltale::cli {
namespace {

struct KeygenOptions {
  std::string out;
  bool signing = false;
};

// Says what was made; when that cannot be written (a full disk, a closed stdout) the files are removed again, so
// that a failed keygen leaves no key behind and its rerun is not refused.
int report_created(const nlohmann::json& j, std::initializer_list<std::string> files) {
  std::printf("%s\n", j.dump().c_str());
  if (Status s = flush_stdout(); !s.is_ok()) {
    for (const std::string& f : files) ::unlink(f.c_str());
    return fail(s);
  }
  return kExitDetected;
}

// An Ed25519 signing key pair for evidence bundles: the secret in OUT (0600), the public key in OUT.pub.
int run_signing_keygen(const KeygenOptions& options) {
  const std::string pub = options.out + ".pub";
  for (const std::string& path : {options.out, pub})
    if (Status s = check_new_path(path); !s.is_ok()) return fail(s);
  auto key = evidence::SigningKey::generate();
  if (!key) return fail(key.status());
  if (Status s = key->write(options.out); !s.is_ok()) return fail(s);
  if (Status s = write_new_file(pub, evidence::public_key_text(key->public_key()), FileAccess::kShared); !s.is_ok()) {
    ::unlink(options.out.c_str());  // the pair is made whole or not at all
    return fail(s);
  }
  const nlohmann::json j = {{"signing_key_file", options.out},
                            {"public_key_file", pub},
                            {"public_key_id", evidence::public_key_id(key->public_key())}};
  return report_created(j, {options.out, pub});
}

int run_keygen(const KeygenOptions& options) {
  if (options.signing) return run_signing_keygen(options);
  auto keys = KeyRing::generate();
  if (!keys) return fail(keys.status());
  if (Status s = write_key_file(*keys, options.out); !s.is_ok()) return fail(s);
  const nlohmann::json j = {{"key_file", options.out}, {"key_id", keys->key_id_hex()}};
  return report_created(j, {options.out});
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
