// telltale_llama_server.cpp: llama-server's side of the watermark (see telltale_llama_server.h). One hook per process,
// created at model load and shared by every slot; each request gets its own sequence through the adapter.
#include "telltale_llama_server.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "llama.h"
#include "telltale.h"
#include "telltale_llama_sampler.h"

namespace {

struct TelltaleServerConfig {
  std::string key_path;  // empty: no watermark
  long vocab = -1;       // --telltale-vocab
  tt_hook* hook = nullptr;
  int32_t hook_vocab = 0;
};

TelltaleServerConfig& config() {
  static TelltaleServerConfig c;
  return c;
}

bool parse_vocab(const char* text, long* out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 2 || v > (1L << 24)) return false;
  *out = v;
  return true;
}

}  // namespace

bool telltale_server_take_args(int& argc, char** argv) {
  TelltaleServerConfig& c = config();
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const bool is_key = std::strcmp(argv[i], "--telltale-key") == 0;
    const bool is_vocab = std::strcmp(argv[i], "--telltale-vocab") == 0;
    if (!is_key && !is_vocab) {
      argv[kept++] = argv[i];
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "telltale: %s needs a value\n", argv[i]);
      return false;
    }
    const char* value = argv[++i];
    if (is_key) {
      c.key_path = value;
    } else if (!parse_vocab(value, &c.vocab)) {
      std::fprintf(stderr, "telltale: --telltale-vocab must be a vocabulary size (2 .. 2^24), got '%s'\n", value);
      return false;
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  if (!c.key_path.empty() && c.vocab < 0) {
    std::fprintf(stderr,
                 "telltale: --telltale-key needs --telltale-vocab N, the vocabulary size of the tokenizer the "
                 "detector will use (telltale keyinfo --tokenizer prints it)\n");
    return false;
  }
  if (c.key_path.empty() && c.vocab >= 0) {
    std::fprintf(stderr, "telltale: --telltale-vocab without --telltale-key\n");
    return false;
  }
  return true;
}

bool telltale_server_refuses_router(bool is_router) {
  if (!is_router || config().key_path.empty()) return false;
  std::fprintf(stderr,
               "telltale: --telltale-key needs a model (-m): a router server would start its models without "
               "the watermark\n");
  return true;
}

bool telltale_server_load(const llama_vocab* vocab) {
  TelltaleServerConfig& c = config();
  if (c.key_path.empty()) return true;
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  if (c.hook != nullptr) return c.hook_vocab == n_vocab;  // a resume after sleep reloads the same model
  if (n_vocab != c.vocab) {
    std::fprintf(stderr, "telltale: the model has %d tokens but --telltale-vocab says %ld: refusing to start\n",
                 n_vocab, c.vocab);
    return false;
  }
  tt_keyring* keys = nullptr;
  uint8_t id[TT_KEY_ID_BYTES];
  const tt_params params = tt_params_default(TT_SCHEME_KGW, static_cast<uint32_t>(n_vocab));
  tt_status st = tt_keyring_load(c.key_path.c_str(), &keys);
  if (st == TT_OK) st = tt_keyring_key_id(keys, id);
  if (st == TT_OK) st = tt_hook_create(keys, &params, &c.hook);
  tt_keyring_free(keys);  // the hook keeps its own subkeys; the secret is wiped
  if (st != TT_OK) {
    std::fprintf(stderr, "telltale: cannot use the key file: %s: refusing to start\n", tt_last_error());
    return false;
  }
  c.hook_vocab = n_vocab;
  std::string id_hex;
  for (uint8_t b : id) {
    static const char kHex[] = "0123456789abcdef";
    id_hex += kHex[b >> 4];
    id_hex += kHex[b & 15];
  }
  std::fprintf(stderr, "telltale: watermarking every completion (kgw, gamma %.2f, delta %.1f, %d tokens), key id %s\n",
               params.gamma, static_cast<double>(params.delta), n_vocab, id_hex.c_str());
  return true;
}

bool telltale_server_watermark(llama_sampler* chain, uint32_t seed) {
  const TelltaleServerConfig& c = config();
  if (c.key_path.empty()) return true;
  if (c.hook == nullptr || chain == nullptr) return false;
  llama_sampler* watermark = telltale_llama_sampler_init(c.hook, TELLTALE_LLAMA_BIAS, 0, seed);
  if (watermark == nullptr) return false;
  // llama.cpp can only append to a chain: take every member out, add the watermark, put them back in order.
  std::vector<llama_sampler*> rest;
  while (llama_sampler_chain_n(chain) > 0) rest.push_back(llama_sampler_chain_remove(chain, 0));
  llama_sampler_chain_add(chain, watermark);
  for (llama_sampler* s : rest) llama_sampler_chain_add(chain, s);
  return true;
}
