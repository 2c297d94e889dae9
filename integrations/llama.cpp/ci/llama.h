/* ci/llama.h: a stub of llama.cpp's public header holding only the declarations telltale_llama_sampler.{h,c} use, so
 * CI can check that the adapter compiles against the real interface without llama.cpp installed (it is not in
 * Debian). NOT a replacement for llama.h: a real build includes the installed header instead.
 *
 * Two shapes. Without TELLTALE_LLAMA_STUB_BACKEND_SAMPLING: ggml-org/llama.cpp include/llama.h at commit
 * 3679b65db16ebaabba95a893c62eb6c4840e832c (the six-member llama_sampler_i, llama_sampler_init taking a const
 * interface). With it: the release scripts/llama-cpp pins (node-llama-cpp 3.22.1's llama.cpp of 2026-09-28, commit
 * de3ff81): six [EXPERIMENTAL] members after the six (backend_init taking n_outputs_max_per_seq, backend_accept,
 * backend_apply, backend_set_input, backend_reset, copy_state), a non-const iface in struct llama_sampler and in
 * llama_sampler_init, and llama_sampler_copy. Types and member order are as in those headers; comments and layout
 * are ours. */
#ifndef LLAMA_H
#define LLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMA_API
#define LLAMA_TOKEN_NULL -1

struct llama_sampler;
typedef int32_t llama_token;

typedef struct llama_token_data {
  llama_token id; /* token id */
  float logit;    /* log-odds of the token */
  float p;        /* probability of the token */
} llama_token_data;

typedef struct llama_token_data_array {
  llama_token_data *data; /* samplers may replace this pointer */
  size_t size;
  int64_t selected; /* an index into data, not a token id */
  bool sorted;
} llama_token_data_array;

typedef void *llama_sampler_context_t;

#ifdef TELLTALE_LLAMA_STUB_BACKEND_SAMPLING
typedef struct ggml_backend_buffer_type *ggml_backend_buffer_type_t;
struct ggml_context;
struct ggml_cgraph;
struct ggml_tensor;
struct llama_sampler_data;
#define TELLTALE_LLAMA_STUB_IFACE_CONST
#else
#define TELLTALE_LLAMA_STUB_IFACE_CONST const
#endif

struct llama_sampler_i {
  const char *(*name)(const struct llama_sampler *smpl);                    /* can be NULL */
  void (*accept)(struct llama_sampler *smpl, llama_token token);            /* can be NULL */
  void (*apply)(struct llama_sampler *smpl, llama_token_data_array *cur_p); /* required */
  void (*reset)(struct llama_sampler *smpl);                                /* can be NULL */
  struct llama_sampler *(*clone)(const struct llama_sampler *smpl);         /* can be NULL if ctx is NULL */
  void (*free)(struct llama_sampler *smpl);                                 /* can be NULL if ctx is NULL */
#ifdef TELLTALE_LLAMA_STUB_BACKEND_SAMPLING
  bool (*backend_init)(struct llama_sampler *smpl, ggml_backend_buffer_type_t buft, uint32_t n_outputs_max_per_seq);
  void (*backend_accept)(struct llama_sampler *smpl, struct ggml_context *ctx, struct ggml_cgraph *gf,
                         struct ggml_tensor *selected_token);
  void (*backend_apply)(struct llama_sampler *smpl, struct ggml_context *ctx, struct ggml_cgraph *gf,
                        struct llama_sampler_data *data);
  void (*backend_set_input)(struct llama_sampler *smpl);
  void (*backend_reset)(struct llama_sampler *smpl);
  void (*copy_state)(const struct llama_sampler *src, struct llama_sampler *dst);
#endif
};

struct llama_sampler {
  TELLTALE_LLAMA_STUB_IFACE_CONST struct llama_sampler_i *iface;
  llama_sampler_context_t ctx;
};

LLAMA_API struct llama_sampler *llama_sampler_init(TELLTALE_LLAMA_STUB_IFACE_CONST struct llama_sampler_i *iface,
                                                   llama_sampler_context_t ctx);
LLAMA_API void llama_sampler_free(struct llama_sampler *smpl);
LLAMA_API void llama_sampler_apply(struct llama_sampler *smpl, llama_token_data_array *cur_p);
LLAMA_API void llama_sampler_accept(struct llama_sampler *smpl, llama_token token);
LLAMA_API void llama_sampler_reset(struct llama_sampler *smpl);
LLAMA_API struct llama_sampler *llama_sampler_clone(const struct llama_sampler *smpl);
LLAMA_API const char *llama_sampler_name(const struct llama_sampler *smpl);
#ifdef TELLTALE_LLAMA_STUB_BACKEND_SAMPLING
LLAMA_API void llama_sampler_copy(const struct llama_sampler *src, struct llama_sampler *dst);
#endif

#ifdef __cplusplus
}
#endif

#endif /* LLAMA_H */
