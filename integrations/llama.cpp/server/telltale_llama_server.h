// telltale_llama_server.h: what llama-server-telltale.patch calls from llama-server: the --telltale-key option, the
// key loaded once per process, and the telltale sampler put first in every slot's sampler chain. Fails closed.
#pragma once

#include <cstdint>

struct llama_sampler;
struct llama_vocab;

// Removes --telltale-key FILE and --telltale-vocab N from argv (before llama.cpp's own parser sees it) and remembers
// them. False, after a one-line error on stderr, if they are malformed (the server must exit).
bool telltale_server_take_args(int& argc, char** argv);

// True, after a one-line error, when a key was given to a router server (it loads no model itself and would start
// children without the key): the server must exit.
bool telltale_server_refuses_router(bool is_router);

// With a key given: loads it and builds the watermark for this model's vocabulary, which must have --telltale-vocab
// tokens (the detector's tokenizer). Logs the public key id, never the key. False, after a one-line error, if the key
// file or the vocabulary is wrong: the server must not start. Without a key: true, and nothing is watermarked.
bool telltale_server_load(const llama_vocab* vocab);

// Puts a telltale sampler (bias mode, KGW) first in chain, before penalties, temperature and top-p: the order with the
// most power (docs/integration-llama-cpp.md). Does nothing without a key. False if the sampler cannot be created: the
// request must then fail rather than be served unwatermarked.
bool telltale_server_watermark(llama_sampler* chain, uint32_t seed);
