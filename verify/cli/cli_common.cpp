#include "cli_common.hpp"

#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "input/input_stream.hpp"

#include "numeric_flags.hpp"

namespace telltale::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "telltale: error: %s\n", message.c_str());
  return kExitError;
}

int fail(const Status& status) { return fail(status.message()); }

namespace {

// A lost write to stdout, reported once: the stream's error flag is cleared. `err` is 0 when the reason is unknown
// (an earlier write failed and its bytes were dropped; the errno of that moment is gone).
Status stdout_lost(int err) {
  std::clearerr(stdout);
  std::cout.clear();
  const std::string reason = err != 0 ? std::strerror(err) : "an earlier write failed";
  return io_error("writing standard output: " + reason);
}

}  // namespace

Status flush_stdout() {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;
  std::cout.flush();  // CLI11's help goes through std::cout, which shares stdout's buffer (synced with stdio)
  if (flushed && !std::ferror(stdout) && std::cout.good()) return Status::ok();
  return stdout_lost(flushed ? 0 : err);
}

Status print_line(const std::string& line) {
  errno = 0;
  if (std::printf("%s\n", line.c_str()) >= 0 && !std::ferror(stdout)) return Status::ok();
  return stdout_lost(errno);
}

Result<std::vector<KeyRing>> read_key_files(const std::vector<std::string>& paths,
                                            const std::vector<std::string>& expect_ids) {
  std::vector<KeyRing> keys;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto k = read_key_file(paths[i]);
    if (!k) return k.status();
    if (i < expect_ids.size() && k->key_id_hex() != expect_ids[i]) {
      return key_error(paths[i] + ": key id " + k->key_id_hex() + " is not the expected " + expect_ids[i]);
    }
    keys.push_back(std::move(k).value());
  }
  return keys;
}

Result<evidence::SigningPublicKey> read_public_key(const std::string& path) {
  auto text = input::read_input_file(path, "signing public key", {});
  if (!text) return text.status();
  auto key = evidence::parse_public_key(*text);
  if (!key) return key_error(path + ": " + key.status().message());
  return key;
}

Result<std::optional<evidence::SigningKey>> read_signing_key(const std::string& path) {
  if (path.empty()) return std::optional<evidence::SigningKey>();
  auto key = evidence::SigningKey::read(path);
  if (!key) return key.status();
  return std::optional<evidence::SigningKey>(std::move(key).value());
}

void add_scheme_options(CLI::App& command, SchemeOptions& options) {
  command
      .add_option("--scheme", options.scheme,
                  "watermark scheme: kgw (red/green bias), gumbel, tournament, fingerprint (kgw + account id layer)")
      ->check(CLI::IsMember({"kgw", "gumbel", "tournament", "fingerprint"}))
      ->capture_default_str();
  command.add_option("--gamma", options.gamma, "kgw: fraction of the vocabulary that is green, in (0, 1)")
      ->capture_default_str();
  command.add_option("--delta", options.delta, "kgw: logit bias added to green ids, >= 0")->capture_default_str();
  command.add_option("--context-width,-w", options.context_width, "h: tokens of context that seed each step, 1..16")
      ->capture_default_str();
  command.add_flag("--self-hash", options.self_hash, "seed with the last h-1 tokens plus the candidate itself");
  command.add_option("--layers", options.layers, "tournament: number of layers m, 1..32")->capture_default_str();
  command.add_option("--tournament-score", options.tournament_score,
                     "tournament detection: mean (g-values that are 1) or weighted-mean (SynthID's weights 10..1)")
      ->check(CLI::IsMember({"mean", "weighted-mean"}))
      ->capture_default_str();
  command.add_option("--account-delta", options.account_delta, "fingerprint: logit bias of the account layer, >= 0")
      ->capture_default_str();
  command.add_option("--skip-repeated", options.skip_repeated,
                     "1: leave a step unwatermarked when its context repeats in the sequence; 0: never "
                     "(default: 1 for gumbel and tournament, 0 for kgw)")
      ->check(whole_number(0, 1));
}

Result<SchemeParams> scheme_params(const SchemeOptions& options, uint32_t vocab_size) {
  SchemeKind kind = SchemeKind::kKgw;
  if (options.scheme == "gumbel") kind = SchemeKind::kGumbel;
  else if (options.scheme == "tournament") kind = SchemeKind::kTournament;
  else if (options.scheme == "fingerprint") kind = SchemeKind::kFingerprint;
  else if (options.scheme != "kgw") return invalid_argument("unknown scheme '" + options.scheme + "'");
  SchemeParams params = default_params(kind, vocab_size);
  params.kgw.gamma = options.gamma;
  params.kgw.delta = options.delta;
  params.context_width = options.context_width;
  params.self_hash = options.self_hash;
  params.tournament.layers = options.layers;
  const std::optional<TournamentScore> score = parse_tournament_score(options.tournament_score);
  if (!score) return invalid_argument("unknown --tournament-score '" + options.tournament_score + "'");
  params.tournament.score = *score;
  params.fingerprint.delta = options.account_delta;
  if (options.skip_repeated >= 0) params.skip_repeated_contexts = options.skip_repeated != 0;
  TT_RETURN_IF_ERROR(validate(params));
  return params;
}

void refuse_negative_unsigned(CLI::App& app) {
  const CLI::Validator non_negative(
      [](std::string& value) {
        return value.find('-') == std::string::npos ? std::string() : std::string("must not be negative");
      },
      "");
  for (CLI::Option* option : app.get_options()) {
    if (option->get_type_name().rfind("UINT", 0) == 0) option->check(non_negative);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) refuse_negative_unsigned(*sub);
}

}  // namespace telltale::cli
