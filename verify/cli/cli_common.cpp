// What every subcommand shares: errors, key files, and the scheme options read from the scheme table.
#include "cli_common.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
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

namespace {

// "--account-delta" for the field account_delta.
std::string flag_of(const SchemeField& f) {
  std::string flag = std::string("--") + f.name;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// The field's value in `text`, or a one-line error naming the flag.
Result<double> field_value(const SchemeField& f, const std::string& text) {
  if (f.type == SchemeField::Type::kChoice) {
    const auto it = std::find(f.choices.begin(), f.choices.end(), text);
    if (it == f.choices.end()) return invalid_argument("unknown " + flag_of(f) + " '" + text + "'");
    return static_cast<double>(it - f.choices.begin());
  }
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const bool whole = !text.empty() && end == text.c_str() + text.size() && errno == 0 && std::isfinite(v);
  const bool count_ok = f.type != SchemeField::Type::kCount || (v >= 0 && v <= 4294967295.0 && v == std::floor(v));
  if (!whole || !count_ok) return invalid_argument(flag_of(f) + ": '" + text + "' is not a valid value");
  return v;
}

}  // namespace

void add_scheme_options(CLI::App& command, SchemeOptions& options) {
  std::string schemes;
  std::vector<std::string> names;
  for (const SchemeInfo* s : scheme_table()) {
    schemes += std::string(schemes.empty() ? "" : ", ") + s->name + " (" + s->summary + ")";
    names.emplace_back(s->name);
  }
  command.add_option("--scheme", options.scheme, "watermark scheme: " + schemes)
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  const auto fields = scheme_fields();
  const SchemeParams defaults;
  for (size_t i = 0; i < fields.size(); ++i) {
    const SchemeField& f = fields[i];
    const double d = f.get(defaults);
    std::ostringstream shown;
    if (f.type == SchemeField::Type::kChoice) {
      shown << f.choices[static_cast<size_t>(d)];
    } else {
      shown << d;
    }
    CLI::Option* option =
        command.add_option(flag_of(f), options.fields[i], std::string(f.help) + " [" + shown.str() + "]");
    switch (f.type) {  // strict syntax (numeric_flags.hpp); the ranges are the core's, checked by validate()
      case SchemeField::Type::kChoice:
        option->check(CLI::IsMember(std::vector<std::string>(f.choices.begin(), f.choices.end())));
        break;
      case SchemeField::Type::kCount: option->check(whole_number(0, 4294967295u)); break;
      case SchemeField::Type::kFraction:
      case SchemeField::Type::kLogits:
        option->check(real_number(-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()));
        break;
    }
  }
  command.add_option("--context-width,-w", options.context_width, "h: tokens of context that seed each step, 1..16")
      ->capture_default_str();
  command.add_flag("--self-hash", options.self_hash, "seed with the last h-1 tokens plus the candidate itself");
  command
      .add_option("--skip-repeated", options.skip_repeated,
                  "1: leave a step unwatermarked when its context repeats in the sequence; 0: never "
                  "(default: 1 for gumbel and tournament, 0 for kgw)")
      ->check(whole_number(0, 1));
}

Result<SchemeParams> scheme_params(const SchemeOptions& options, uint32_t vocab_size) {
  const std::optional<SchemeKind> kind = parse_scheme(options.scheme);
  if (!kind) return invalid_argument("unknown scheme '" + options.scheme + "' (expected " + scheme_name_list() + ")");
  SchemeParams params = default_params(*kind, vocab_size);
  params.context_width = options.context_width;
  params.self_hash = options.self_hash;
  const auto fields = scheme_fields();
  for (size_t i = 0; i < fields.size() && i < options.fields.size(); ++i) {
    if (options.fields[i].empty()) continue;
    auto v = field_value(fields[i], options.fields[i]);
    if (!v) return v.status();
    fields[i].set(params, *v);
  }
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
