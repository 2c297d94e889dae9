/* telltale_llama_sampler.h: a llama.cpp sampler (struct llama_sampler) that applies a telltale hook inside a sampler
 * chain, through llama.cpp's public llama_sampler_i interface only: no change to libllama is needed.
 *
 * Where it goes in the chain (docs/integration-llama-cpp.md):
 *   TELLTALE_LLAMA_BIAS   kgw, tournament: edits the candidates' logits (tt_hook_bias_candidates). Put it after the
 *                         pruning samplers (top-k, top-p, min-p, temperature) and before the final "dist" sampler,
 *                         which then draws from the watermarked logits.
 *   TELLTALE_LLAMA_CHOOSE gumbel (kgw and tournament work too): makes the draw itself (tt_hook_choose_candidates),
 *                         sets cur_p->selected and fills p. It replaces "dist" as the last member of the chain.
 *
 * State: the sampler keeps its own tt_seq, fed by llama.cpp's accept callback (llama-server replays the prompt through
 * accept first: prompt tokens count as context). apply never changes state, so a re-run of the chain on one step
 * (grammar rejection sampling) gives the same result. clone deep-copies the sequence; reset clears it. */
#ifndef TELLTALE_LLAMA_SAMPLER_H_
#define TELLTALE_LLAMA_SAMPLER_H_

#include <stdint.h>

#include "llama.h"
#include "telltale.h"

#ifdef __cplusplus
extern "C" {
#endif

enum telltale_llama_mode {
  TELLTALE_LLAMA_BIAS = 0,  /* edit logits; a later sampler draws (before dist) */
  TELLTALE_LLAMA_CHOOSE = 1 /* make the draw and set cur_p->selected (instead of dist, last in the chain) */
};

/* A new sampler for one generating sequence. `hook` is borrowed: it must outlive the sampler and every clone of it
 * (create it once per key and share it; it is immutable and thread-safe). account and rng_seed are passed to
 * tt_seq_create (rng_seed seeds the draws of choose mode on steps the watermark leaves alone). Returns NULL on failure,
 * with the reason in tt_last_error(). Free it with llama_sampler_free, or let the chain that owns it do so. */
struct llama_sampler *telltale_llama_sampler_init(const tt_hook *hook, enum telltale_llama_mode mode, uint64_t account,
                                                  uint64_t rng_seed);

/* The status of the sampler's last apply: TT_OK, or the error that made it leave the candidates unchanged (bias mode)
 * or fall back to the most likely candidate (choose mode). TT_ERR_INVALID_ARGUMENT if smpl is not a telltale sampler.
 */
tt_status telltale_llama_sampler_last_status(const struct llama_sampler *smpl);

#ifdef __cplusplus
}
#endif

#endif /* TELLTALE_LLAMA_SAMPLER_H_ */
