/* sampler_test.c: the llama.cpp adapter in a mock libllama (mock_llama.c), driven as llama_sampler_sample drives a
 * chain: an AoS candidate array (whole vocabulary in shuffled order, or pruned), apply, then accept of the selected
 * token. Checks that it agrees with the dense C ABI on the same state, bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telltale_llama_sampler.h"

enum { kVocab = 512, kSteps = 24 };

static int failures = 0;
#define EXPECT(cond, ...)                             \
  do {                                                \
    if (!(cond)) {                                    \
      fprintf(stderr, "sampler_test:%d: ", __LINE__); \
      fprintf(stderr, __VA_ARGS__);                   \
      fprintf(stderr, "\n");                          \
      ++failures;                                     \
    }                                                 \
  } while (0)

static uint64_t rng = 88172645463325252ull;
static uint32_t next_u32(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

static void fake_logits(float *row) {
  for (int v = 0; v < kVocab; ++v) row[v] = (float)(next_u32() % 10000) / 1000.0f - 5.0f;
}

/* The whole row as llama.cpp's candidate array, in a shuffled order (samplers must not assume sorted input). */
static void to_candidates(const float *row, llama_token_data *data, llama_token_data_array *cur) {
  for (int v = 0; v < kVocab; ++v) data[v] = (llama_token_data){v, row[v], 0.0f};
  for (int i = kVocab - 1; i > 0; --i) {
    const int j = (int)(next_u32() % (uint32_t)(i + 1));
    const llama_token_data t = data[i];
    data[i] = data[j];
    data[j] = t;
  }
  *cur = (llama_token_data_array){data, kVocab, -1, true};
}

static tt_hook *make_hook(tt_scheme scheme) {
  tt_keyring *keys = NULL;
  uint8_t secret[32];
  for (int i = 0; i < 32; ++i) secret[i] = (uint8_t)(3 * i + 1);
  tt_hook *hook = NULL;
  tt_params params = tt_params_default(scheme, kVocab);
  if (tt_keyring_from_secret(secret, sizeof secret, &keys) != TT_OK || tt_hook_create(keys, &params, &hook) != TT_OK) {
    fprintf(stderr, "sampler_test: cannot create the hook: %s\n", tt_last_error());
    exit(1);
  }
  tt_keyring_free(keys);
  return hook;
}

static const int32_t prompt[] = {11, 22, 33, 44, 55, 66};

static void test_bias_mode_matches_the_dense_hook(void) {
  tt_hook *hook = make_hook(TT_SCHEME_KGW);
  struct llama_sampler *smpl = telltale_llama_sampler_init(hook, TELLTALE_LLAMA_BIAS, 5, 9);
  tt_seq *ref = NULL;
  EXPECT(smpl != NULL && tt_seq_create(hook, 5, 9, &ref) == TT_OK, "create");
  EXPECT(strcmp(llama_sampler_name(smpl), "telltale") == 0, "name");
  for (size_t i = 0; i < sizeof prompt / sizeof prompt[0]; ++i) { /* llama-server replays the prompt */
    llama_sampler_accept(smpl, prompt[i]);
    tt_seq_accept(ref, prompt[i]);
  }
  static float row[kVocab], dense[kVocab];
  static llama_token_data data[kVocab], again[kVocab];
  for (int step = 0; step < kSteps; ++step) {
    fake_logits(row);
    memcpy(dense, row, sizeof row);
    tt_seq *rows[1] = {ref};
    EXPECT(tt_hook_bias(hook, rows, (tt_logits_view){dense, 1, kVocab, kVocab}, 0) == TT_OK, "dense bias");
    llama_token_data_array cur;
    to_candidates(row, data, &cur);
    memcpy(again, data, sizeof data);
    llama_sampler_apply(smpl, &cur);
    EXPECT(telltale_llama_sampler_last_status(smpl) == TT_OK, "status %d", telltale_llama_sampler_last_status(smpl));
    EXPECT(!cur.sorted, "sorted must be cleared after a bias");
    int best = 0;
    for (int i = 0; i < kVocab; ++i) {
      EXPECT(memcmp(&cur.data[i].logit, &dense[cur.data[i].id], sizeof(float)) == 0, "step %d id %d", step,
             cur.data[i].id);
      if (cur.data[i].logit > cur.data[best].logit) best = i;
    }
    /* apply again on the same step (grammar re-run): the same result, the state did not move */
    llama_token_data_array cur2 = {again, kVocab, -1, true};
    llama_sampler_apply(smpl, &cur2);
    EXPECT(memcmp(again, data, sizeof data) == 0, "a second apply on one step differs");
    /* a pruned list (the top 40 of an earlier top-k) is biased exactly like those ids of the dense row */
    llama_token_data_array top = {again, 40, -1, false};
    for (int i = 0; i < 40; ++i) again[i] = (llama_token_data){(int32_t)(i * 7 % kVocab), row[i * 7 % kVocab], 0};
    llama_sampler_apply(smpl, &top);
    for (int i = 0; i < 40; ++i) EXPECT(again[i].logit == dense[again[i].id], "pruned id %d", again[i].id);
    /* the whole vocabulary in id order (first in a chain: the adapter's dense path), the same bits again */
    for (int v = 0; v < kVocab; ++v) again[v] = (llama_token_data){v, row[v], 0.0f};
    llama_token_data_array ordered = {again, kVocab, -1, false};
    llama_sampler_apply(smpl, &ordered);
    for (int v = 0; v < kVocab; ++v) {
      if (memcmp(&again[v].logit, &dense[v], sizeof(float)) != 0) {
        EXPECT(0, "step %d: id-ordered list, id %d biased differently from the dense row", step, v);
        break;
      }
    }
    const llama_token chosen = cur.data[best].id; /* stand-in for dist: greedy */
    llama_sampler_accept(smpl, chosen);
    tt_seq_accept(ref, chosen);
  }
  /* clone: an independent deep copy that continues identically */
  struct llama_sampler *copy = llama_sampler_clone(smpl);
  EXPECT(copy != NULL, "clone");
  fake_logits(row);
  llama_token_data_array a, b;
  static llama_token_data da[kVocab], db[kVocab];
  to_candidates(row, da, &a);
  memcpy(db, da, sizeof da);
  b = (llama_token_data_array){db, kVocab, -1, true};
  llama_sampler_apply(smpl, &a);
  llama_sampler_apply(copy, &b);
  EXPECT(memcmp(da, db, sizeof da) == 0, "a clone applies differently");
  llama_sampler_accept(copy, 1);
  llama_sampler_reset(smpl);
  llama_sampler_free(copy);
  llama_sampler_free(smpl);
  tt_seq_free(ref);
  tt_hook_free(hook);
}

static void test_choose_mode_selects_what_the_dense_hook_chooses(void) {
  tt_hook *hook = make_hook(TT_SCHEME_GUMBEL);
  struct llama_sampler *smpl = telltale_llama_sampler_init(hook, TELLTALE_LLAMA_CHOOSE, 0, 4);
  tt_seq *ref = NULL;
  EXPECT(smpl != NULL && tt_seq_create(hook, 0, 4, &ref) == TT_OK, "create");
  /* With a full context every step is watermarked and the Gumbel argmax does not depend on the candidates' order.
   * (A step without one is plain sampling from the list, whose inverse-CDF pick depends on that order.) */
  for (size_t i = 0; i < sizeof prompt / sizeof prompt[0]; ++i) {
    llama_sampler_accept(smpl, prompt[i]);
    tt_seq_accept(ref, prompt[i]);
  }
  static float row[kVocab];
  static llama_token_data data[kVocab];
  for (int step = 0; step < kSteps; ++step) {
    fake_logits(row);
    llama_token_data_array cur;
    to_candidates(row, data, &cur);
    llama_sampler_apply(smpl, &cur);
    EXPECT(cur.selected >= 0 && cur.selected < (int64_t)cur.size, "selected out of range");
    int32_t expected = -1;
    tt_seq *rows[1] = {ref};
    EXPECT(tt_hook_choose(hook, rows, (tt_logits_view){row, 1, kVocab, kVocab}, NULL, &expected, 0) == TT_OK, "dense");
    const llama_token got = cur.data[cur.selected].id;
    EXPECT(got == expected, "step %d: adapter chose %d, dense hook %d", step, got, expected);
    double sum = 0;
    for (size_t i = 0; i < cur.size; ++i) sum += (double)cur.data[i].p;
    EXPECT(fabs(sum - 1.0) < 1e-4, "p sums to %f", sum);
    llama_sampler_accept(smpl, got); /* llama_sampler_sample accepts the selected token */
    tt_seq_accept(ref, got);
  }
  EXPECT(telltale_llama_sampler_last_status(smpl) == TT_OK, "status");
  llama_sampler_free(smpl);
  tt_seq_free(ref);
  tt_hook_free(hook);
}

/* An earlier sampler can empty the list; choose mode must then say "nothing selected" (-1, as llama.cpp's dist does)
 * rather than leave the index an earlier member wrote, which would point past the end of the array. */
static void test_choose_mode_on_an_empty_list_selects_nothing(void) {
  tt_hook *hook = make_hook(TT_SCHEME_GUMBEL);
  struct llama_sampler *smpl = telltale_llama_sampler_init(hook, TELLTALE_LLAMA_CHOOSE, 0, 4);
  EXPECT(smpl != NULL, "create");
  llama_token_data one = {7, 1.0f, 0.0f};
  llama_token_data_array cur = {&one, 0, 3, false};
  llama_sampler_apply(smpl, &cur);
  EXPECT(cur.selected == -1, "an empty list left selected = %lld, expected -1", (long long)cur.selected);
  EXPECT(telltale_llama_sampler_last_status(smpl) == TT_ERR_INVALID_ARGUMENT, "the empty list is reported");
  cur.size = 1; /* the next step works again */
  llama_sampler_apply(smpl, &cur);
  EXPECT(cur.selected == 0 && one.p == 1.0f, "a one-entry list selects it (selected %lld)", (long long)cur.selected);
  llama_sampler_free(smpl);
  tt_hook_free(hook);
}

int main(void) {
  test_bias_mode_matches_the_dense_hook();
  test_choose_mode_selects_what_the_dense_hook_chooses();
  test_choose_mode_on_an_empty_list_selects_nothing();
  EXPECT(telltale_llama_sampler_init(NULL, TELLTALE_LLAMA_BIAS, 0, 0) == NULL, "a NULL hook must be refused");
  if (failures) {
    fprintf(stderr, "sampler_test: %d failure(s)\n", failures);
    return 1;
  }
  printf("sampler_test: the llama.cpp adapter agrees with the dense hook (bias and choose modes)\n");
  return 0;
}
