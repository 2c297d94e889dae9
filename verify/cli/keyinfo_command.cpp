// `telltale keyinfo --key FILE`: what a company can publish before any dispute: the key id (a commitment to the
// secret), the exact scheme configuration, optionally bound to a tokenizer model by its SHA-256, and the public key
// that will sign evidence bundles.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/signing_key.hpp"
#include "input/tokenizer.hpp"
#include "numeric_flags.hpp"

namespace telltale::cli {
namespace {

struct KeyinfoOptions {
  std::string key;
  std::string tokenizer;
  uint32_t vocab_size = 0;
  std::string signing_pubkey;
  SchemeOptions scheme;
};

int run_keyinfo(const KeyinfoOptions& options) {
  auto keys = read_key_file(options.key);
  if (!keys) return fail(keys.status());
  nlohmann::json out = {{"key_id", keys->key_id_hex()}, {"key_id_scheme", "sha256(\"telltale key id v1\" || secret)"}};
  uint32_t vocab = options.vocab_size;
  if (!options.tokenizer.empty()) {
    auto tokenizer = input::Tokenizer::load(options.tokenizer);
    if (!tokenizer) return fail(tokenizer.status());
    vocab = static_cast<uint32_t>(tokenizer->vocab_size());
    out["tokenizer"] = {{"path", options.tokenizer},
                        {"kind", tokenizer->kind_name()},
                        {"sha256", tokenizer->sha256_hex()},
                        {"vocab_size", vocab}};
  }
  if (vocab > 0) {
    auto params = scheme_params(options.scheme, vocab);
    if (!params) return fail(params.status());
    out["configuration"] = describe(*params);
  }
  if (!options.signing_pubkey.empty()) {
    auto signer = read_public_key(options.signing_pubkey);
    if (!signer) return fail(signer.status());
    out["evidence_signing_key"] = {{"algorithm", "ed25519"},
                                   {"public_key", evidence::to_hex(*signer)},
                                   {"public_key_id", evidence::public_key_id(*signer)}};
  }
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

}  // namespace

void add_keyinfo_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<KeyinfoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "keyinfo", "Print the public key id and scheme configuration to publish before a dispute (never the secret)");
  cmd->add_option("--key,-k", options->key, "the key file")->required();
  cmd->add_option("--tokenizer,-t", options->tokenizer,
                  "the generator's tokenizer: SentencePiece .model or llama.cpp .gguf (hashed)");
  cmd->add_option("--signing-pubkey", options->signing_pubkey,
                  "also publish the public key that will sign evidence bundles (telltale keygen --signing)");
  cmd->add_option("--vocab-size", options->vocab_size, "vocabulary size, when no tokenizer is given")
      ->check(whole_number(2, 1u << 30));
  add_scheme_options(*cmd, options->scheme);
  cmd->callback([options, &exit_code] { exit_code = run_keyinfo(*options); });
}

}  // namespace telltale::cli
