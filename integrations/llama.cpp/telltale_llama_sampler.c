/* telltale_llama_sampler.c: the llama_sampler_i callbacks that put a telltale hook into a llama.cpp sampler chain.
 * Reads llama.cpp's candidate array in place (strided views of llama_token_data.id and .logit): no copy. */
#include "telltale_llama_sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct telltale_llama_ctx {
  const tt_hook *hook; /* borrowed */
  tt_seq *seq;         /* owned */
  enum telltale_llama_mode mode;
  tt_status last;
  float *row;      /* bias mode: the dense row when the candidates are the whole vocabulary in id order (owned) */
  size_t row_size; /* its length; allocated on the first such step, then reused */
};

/* First in a chain, llama.cpp hands over the whole vocabulary in id order (data[i].id == i). The dense hook draws the
 * green list as a keystream instead of id by id, and gives the same bits (ci/sampler_test.c), so the logits go
 * through a reused dense row: 0.85 -> 0.33 ms per token at 151,936 ids (bench/RESULTS.md). Returns false when
 * the list is not of that shape or the row cannot be allocated: the caller then takes the candidates path. */
static bool bias_dense(struct telltale_llama_ctx *c, llama_token_data_array *cur_p) {
  const size_t n = cur_p->size;
  if (n == 0 || cur_p->data[0].id != 0 || cur_p->data[n - 1].id != (llama_token)(n - 1)) return false;
  if (c->row_size < n) {
    float *row = (float *)malloc(n * sizeof *row);
    if (row == NULL) return false;
    free(c->row);
    c->row = row;
    c->row_size = n;
  }
  for (size_t i = 0; i < n; ++i) {
    if (cur_p->data[i].id != (llama_token)i) return false;
    c->row[i] = cur_p->data[i].logit;
  }
  tt_seq *rows[1] = {c->seq};
  const tt_logits_view view = {c->row, 1, (int64_t)n, (int64_t)n};
  c->last = tt_hook_bias(c->hook, rows, view, 0);
  if (c->last == TT_OK) {
    for (size_t i = 0; i < n; ++i) cur_p->data[i].logit = c->row[i];
  }
  return true;
}

static tt_candidates_view view_of(llama_token_data_array *cur_p) {
  tt_candidates_view v;
  v.ids = cur_p->size > 0 ? &cur_p->data[0].id : NULL;
  v.logits = cur_p->size > 0 ? &cur_p->data[0].logit : NULL;
  v.n = cur_p->size;
  v.id_stride = sizeof(llama_token_data);
  v.logit_stride = sizeof(llama_token_data);
  return v;
}

/* p = softmax(logit) over the candidates, for code after the chain that reads p (dist would have done this). */
static void fill_probabilities(llama_token_data_array *cur_p) {
  float max_logit = -INFINITY;
  for (size_t i = 0; i < cur_p->size; ++i) {
    if (cur_p->data[i].logit > max_logit) max_logit = cur_p->data[i].logit;
  }
  double sum = 0;
  for (size_t i = 0; i < cur_p->size; ++i) {
    const float e = isfinite(max_logit) ? expf(cur_p->data[i].logit - max_logit) : 0.0f;
    cur_p->data[i].p = e;
    sum += (double)e;
  }
  for (size_t i = 0; i < cur_p->size; ++i) {
    cur_p->data[i].p = sum > 0 ? (float)((double)cur_p->data[i].p / sum) : 0.0f;
  }
}

static const char *telltale_name(const struct llama_sampler *smpl) {
  (void)smpl;
  return "telltale";
}

static void telltale_accept(struct llama_sampler *smpl, llama_token token) {
  struct telltale_llama_ctx *c = (struct telltale_llama_ctx *)smpl->ctx;
  tt_seq_accept(c->seq, token); /* the only place the sequence advances */
}

static void telltale_apply(struct llama_sampler *smpl, llama_token_data_array *cur_p) {
  struct telltale_llama_ctx *c = (struct telltale_llama_ctx *)smpl->ctx;
  const tt_candidates_view v = view_of(cur_p);
  if (c->mode == TELLTALE_LLAMA_BIAS) {
    /* The list is the distribution at this point of the chain: ids an earlier sampler removed are out of it, so
     * nothing outside the list can matter (excluded_max = -inf) and the top-k check is not needed. */
    if (!bias_dense(c, cur_p)) c->last = tt_hook_bias_candidates(c->hook, c->seq, v, 0, -INFINITY);
    if (c->last == TT_OK) cur_p->sorted = false; /* the bias may reorder the candidates */
    return;
  }
  if (cur_p->size == 0) {
    /* Nothing to draw from: say so the way llama.cpp's own dist sampler does, never leave a stale index behind. */
    c->last = TT_ERR_INVALID_ARGUMENT;
    cur_p->selected = -1;
    return;
  }
  size_t index = 0;
  c->last = tt_hook_choose_candidates(c->hook, c->seq, v, -1.0f, &index);
  if (c->last != TT_OK) {
    /* apply cannot fail in llama.cpp and the chain asserts a valid selection: take the most likely candidate. */
    index = 0;
    for (size_t i = 1; i < cur_p->size; ++i) {
      if (cur_p->data[i].logit > cur_p->data[index].logit) index = i;
    }
  }
  cur_p->sorted = false; /* kgw biased the logits in place */
  fill_probabilities(cur_p);
  cur_p->selected = (int64_t)index;
}

static void telltale_reset(struct llama_sampler *smpl) {
  struct telltale_llama_ctx *c = (struct telltale_llama_ctx *)smpl->ctx;
  tt_seq_reset(c->seq);
  c->last = TT_OK;
}

static struct llama_sampler *make_sampler(const tt_hook *hook, enum telltale_llama_mode mode, tt_seq *seq);

/* Never returns NULL: llama.cpp's chain clone (and llama_sampler_copy) add the result without checking, and a chain
 * missing this member would serve unwatermarked text. Out of memory is fatal here, as it is in llama.cpp itself. */
static struct llama_sampler *telltale_clone(const struct llama_sampler *smpl) {
  const struct telltale_llama_ctx *c = (const struct telltale_llama_ctx *)smpl->ctx;
  tt_seq *copy = NULL;
  struct llama_sampler *clone = tt_seq_clone(c->seq, &copy) == TT_OK ? make_sampler(c->hook, c->mode, copy) : NULL;
  if (clone == NULL) {
    fprintf(stderr, "telltale: cannot clone the llama.cpp sampler (out of memory)\n");
    abort();
  }
  ((struct telltale_llama_ctx *)clone->ctx)->last = c->last;
  return clone;
}

static void telltale_free(struct llama_sampler *smpl) {
  struct telltale_llama_ctx *c = (struct telltale_llama_ctx *)smpl->ctx;
  if (c == NULL) return;
  tt_seq_free(c->seq);
  free(c->row);
  free(c);
}

/* Not const, and initialised by member name: llama.cpp's newer headers take a non-const interface and add backend
 * sampling members and copy_state after these six. They stay NULL here, so this compiles against both: a NULL
 * backend_init makes the chain sample on the CPU, and a NULL copy_state makes llama_sampler_copy go through clone. */
static struct llama_sampler_i telltale_iface = {
    .name = telltale_name,
    .accept = telltale_accept,
    .apply = telltale_apply,
    .reset = telltale_reset,
    .clone = telltale_clone,
    .free = telltale_free,
};

/* Takes ownership of seq (freed on failure). */
static struct llama_sampler *make_sampler(const tt_hook *hook, enum telltale_llama_mode mode, tt_seq *seq) {
  struct telltale_llama_ctx *c = (struct telltale_llama_ctx *)malloc(sizeof *c);
  if (c == NULL) {
    tt_seq_free(seq);
    return NULL;
  }
  c->hook = hook;
  c->seq = seq;
  c->mode = mode;
  c->last = TT_OK;
  c->row = NULL;
  c->row_size = 0;
  struct llama_sampler *smpl = llama_sampler_init(&telltale_iface, c);
  if (smpl == NULL) telltale_free(&(struct llama_sampler){.iface = &telltale_iface, .ctx = c});
  return smpl;
}

struct llama_sampler *telltale_llama_sampler_init(const tt_hook *hook, enum telltale_llama_mode mode, uint64_t account,
                                                  uint64_t rng_seed) {
  if (hook == NULL || (mode != TELLTALE_LLAMA_BIAS && mode != TELLTALE_LLAMA_CHOOSE)) return NULL;
  tt_seq *seq = NULL;
  if (tt_seq_create(hook, account, rng_seed, &seq) != TT_OK) return NULL;
  return make_sampler(hook, mode, seq);
}

tt_status telltale_llama_sampler_last_status(const struct llama_sampler *smpl) {
  if (smpl == NULL || smpl->iface != &telltale_iface) return TT_ERR_INVALID_ARGUMENT;
  return ((const struct telltale_llama_ctx *)smpl->ctx)->last;
}
