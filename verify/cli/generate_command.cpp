// `telltale generate`: watermarked (or, with --no-watermark, plain) text from the reference model.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "generator.hpp"
#include "input/tokenizer.hpp"
#include "numeric_flags.hpp"

namespace telltale::cli {
namespace {

struct GenerateOptions {
  std::string key;
  std::string model;
  std::string tokenizer;
  std::string prompt = "Once upon a time";
  int tokens = 256;
  int count = 1;
  uint64_t seed = 1;
  uint64_t account = 0;
  float temperature = 1.0f;
  float top_p = 0.9f;
  bool no_watermark = false;
  bool jsonl = false;
  SchemeOptions scheme;
  std::string antidistill;  // "", degrade or fingerprint
  std::string proxy;
  float lambda = 0;
  bool lambda_given = false;
};

// The antidistillation parameters every JSONL line records: mode, lambda, the proxy's files by SHA-256, eps.
Result<nlohmann::json> describe_antidistill(const GenerateOptions& o, const refmodel::AntidistillProxy& proxy) {
  nlohmann::json d = {{"mode", refmodel::antidistill_mode_name(proxy.mode())}, {"lambda", o.lambda}};
  if (proxy.mode() == refmodel::AntidistillMode::kDegrade) {
    d["eps"] = proxy.eps();
    for (const char* name : {refmodel::kProxyPlusFile, refmodel::kProxyMinusFile}) {
      auto sha = input::sha256_file_hex(o.proxy + "/" + name);
      if (!sha) return sha.status();
      d[std::string(name) + "_sha256"] = *sha;
    }
  } else {
    auto sha = input::sha256_file_hex(o.proxy);
    if (!sha) return sha.status();
    d["proxy_sha256"] = *sha;
  }
  return d;
}

int run_generate(const GenerateOptions& options) {
  if (Status s = check_seed_span(options.seed, static_cast<uint64_t>(options.count)); !s.is_ok()) return fail(s);
  auto tokenizer = input::Tokenizer::load(options.tokenizer);
  if (!tokenizer) return fail(tokenizer.status());
  auto model = refmodel::Llama2cModel::load(options.model);
  if (!model) return fail(model.status());
  if (model->vocab_size() != tokenizer->vocab_size())
    return fail(options.model + ": the model has " + std::to_string(model->vocab_size()) + " ids but the tokenizer " +
                std::to_string(tokenizer->vocab_size()));
  auto params = scheme_params(options.scheme, static_cast<uint32_t>(tokenizer->vocab_size()));
  if (!params) return fail(params.status());

  std::optional<Hook> hook;  // none with --no-watermark
  std::string key_id;
  if (!options.no_watermark) {
    if (options.key.empty()) return fail("generate needs --key FILE (or --no-watermark)");
    auto keys = read_key_file(options.key);
    if (!keys) return fail(keys.status());
    auto h = Hook::create(*keys, *params);
    if (!h) return fail(h.status());
    hook.emplace(std::move(h).value());
    key_id = keys->key_id_hex();
  }
  std::vector<int32_t> prompt;
  if (Status s = tokenizer->encode(options.prompt, prompt); !s.is_ok()) return fail(s);

  std::optional<refmodel::AntidistillProxy> proxy;
  nlohmann::json antidistill;
  if (!options.antidistill.empty()) {
    if (!hook) return fail("--antidistill rides on the watermark's hook: it cannot be used with --no-watermark");
    if (options.proxy.empty()) return fail("--antidistill needs --proxy (the proxy model or gradient directory)");
    if (!options.lambda_given) return fail("--antidistill needs --lambda (its strength)");
    auto mode = refmodel::parse_antidistill_mode(options.antidistill);
    if (!mode) return fail(mode.status());
    auto p = refmodel::AntidistillProxy::open(*mode, options.proxy, model->vocab_size());
    if (!p) return fail(p.status());
    proxy.emplace(std::move(p).value());
    auto d = describe_antidistill(options, *proxy);
    if (!d) return fail(d.status());
    antidistill = std::move(d).value();
  } else if (!options.proxy.empty() || options.lambda_given) {
    return fail("--proxy and --lambda are only read with --antidistill degrade|fingerprint");
  }

  refmodel::Generator generator(*model);
  for (int i = 0; i < options.count; ++i) {
    refmodel::GenerationOptions gen;
    gen.max_new_tokens = options.tokens;
    gen.temperature = options.temperature;
    gen.top_p = options.top_p;
    gen.seed = options.seed + static_cast<uint64_t>(i);
    gen.proxy = proxy ? &*proxy : nullptr;
    gen.lambda = options.lambda;
    std::optional<SeqState> seq;
    if (hook) {
      auto s = hook->new_sequence(options.account, gen.seed);
      if (!s) return fail(s.status());
      seq.emplace(std::move(s).value());
    }
    auto out = generator.run(prompt, hook ? &*hook : nullptr, seq ? &*seq : nullptr, gen);
    if (!out) return fail(out.status());
    std::vector<int32_t> all = out->prompt;
    all.insert(all.end(), out->tokens.begin(), out->tokens.end());
    auto text = tokenizer->decode(all);
    if (!text) return fail(text.status());
    if (options.jsonl) {
      auto completion = tokenizer->decode(out->tokens);
      if (!completion) return fail(completion.status());
      nlohmann::json line = {
          {"prompt", options.prompt}, {"completion", *completion},       {"text", *text},
          {"seed", gen.seed},         {"watermarked", hook.has_value()}, {"new_tokens", out->tokens.size()}};
      if (hook.has_value()) {
        line["key_id"] = key_id;
        line["configuration"] = describe(*params);
      }
      if (proxy) line["antidistill"] = antidistill;
      if (Status p = print_line(line.dump()); !p.is_ok()) return fail(p);
    } else if (Status p = print_line(*text); !p.is_ok()) {
      return fail(p);
    }
  }
  return kExitOk;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text with the reference llama2.c model and the watermark");
  cmd->add_option("--key,-k", options->key, "the key file (not needed with --no-watermark)");
  cmd->add_option("--model,-m", options->model, "llama2.c-format model file (e.g. stories260K.bin)")->required();
  cmd->add_option("--tokenizer,-t", options->tokenizer, "the model's SentencePiece tokenizer (.model)")->required();
  cmd->add_option("--tokens,-n", options->tokens, "new tokens to generate at most")
      ->check(whole_number(0, 1u << 20))
      ->capture_default_str();
  cmd->add_option("--prompt,-p", options->prompt, "text the generation continues")->capture_default_str();
  cmd->add_option("--seed,-s", options->seed, "seed of the sampler's draws (text i uses seed + i)")
      ->capture_default_str();
  cmd->add_option("--count,-c", options->count, "how many texts")
      ->check(whole_number(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--account", options->account, "account id carried by account-aware schemes")->capture_default_str();
  cmd->add_option("--temperature", options->temperature, "sampling temperature")
      ->check(real_number(0.01, 100))
      ->capture_default_str();
  cmd->add_option("--top-p", options->top_p, "nucleus sampling mass")
      ->check(real_number(0.001, 1))
      ->capture_default_str();
  cmd->add_flag("--no-watermark", options->no_watermark, "generate plain text (the same draws without the hook)");
  cmd->add_flag("--jsonl", options->jsonl, "one JSON object per text: prompt, completion, text, seed, key id");
  cmd->add_option("--antidistill", options->antidistill,
                  "antidistillation: degrade (poison a student trained on the text) or fingerprint (make the "
                  "watermark easier for a student to learn); needs --proxy and --lambda");
  cmd->add_option("--proxy", options->proxy,
                  "antidistillation proxy: for degrade the directory tools/antidistill_grad.py writes, for fingerprint "
                  "a llama2.c model file sharing the tokenizer");
  CLI::Option* lambda =
      cmd->add_option("--lambda", options->lambda, "antidistillation strength, in logits per unit of adjustment")
          ->check(real_number(-1e6, 1e6))
          ->capture_default_str();
  add_scheme_options(*cmd, options->scheme);
  cmd->callback([options, lambda, &exit_code] {
    options->lambda_given = lambda->count() > 0;
    exit_code = run_generate(*options);
  });
}

}  // namespace telltale::cli
