/* mock_llama.c: the few libllama entry points a custom sampler meets (llama_sampler_init/free/apply/accept/reset/
 * clone/name), behaving as llama.cpp's src/llama-sampler.cpp does, so the adapter's behaviour can be tested without
 * llama.cpp. init wraps {iface, ctx}; free calls iface->free when set; accept and reset skip a NULL callback. */
#include <stdlib.h>

#include "llama.h"

struct llama_sampler *llama_sampler_init(TELLTALE_LLAMA_STUB_IFACE_CONST struct llama_sampler_i *iface,
                                         llama_sampler_context_t ctx) {
  struct llama_sampler *s = (struct llama_sampler *)malloc(sizeof *s);
  if (s == NULL) return NULL;
  s->iface = iface;
  s->ctx = ctx;
  return s;
}

void llama_sampler_free(struct llama_sampler *smpl) {
  if (smpl == NULL) return;
  if (smpl->iface->free) smpl->iface->free(smpl);
  free(smpl);
}

void llama_sampler_apply(struct llama_sampler *smpl, llama_token_data_array *cur_p) { smpl->iface->apply(smpl, cur_p); }

void llama_sampler_accept(struct llama_sampler *smpl, llama_token token) {
  if (smpl->iface->accept) smpl->iface->accept(smpl, token);
}

void llama_sampler_reset(struct llama_sampler *smpl) {
  if (smpl->iface->reset) smpl->iface->reset(smpl);
}

struct llama_sampler *llama_sampler_clone(const struct llama_sampler *smpl) {
  return smpl->iface->clone(smpl);
}

const char *llama_sampler_name(const struct llama_sampler *smpl) { return smpl->iface->name(smpl); }
