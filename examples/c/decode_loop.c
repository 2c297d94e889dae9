/* decode_loop.c: how an inference server drives the telltale C ABI, one decode step at a time, then checks the result
 * with the detector. Self-contained: fake logits stand in for the model. Exits non-zero on any failure, or if the
 * generated text is not watermarked beyond any doubt.
 *
 *   cc decode_loop.c $(pkg-config --cflags --libs telltale) -lm -o decode_loop && ./decode_loop
 *
 * The server's side of the contract:
 *   - one tt_hook per (key, scheme, parameters), created once and shared by every thread;
 *   - one tt_seq per generating sequence, fed with tt_seq_accept: the prompt first, then each emitted token;
 *   - per step: the model's logits -> tt_hook_bias (KGW, tournament) -> the server's own sampler -> tt_seq_accept.
 *     (Gumbel makes the draw itself: tt_hook_choose replaces the sampler.) Sequence state changes only in accept. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "telltale.h"

enum { kVocab = 1000, kBatch = 4, kPromptLen = 6, kSteps = 64 };

/* Reports a failed call with the library's one-line message and jumps to cleanup. */
#define CHECK(call)                                                                                        \
  do {                                                                                                     \
    tt_status st_ = (call);                                                                                \
    if (st_ != TT_OK) {                                                                                    \
      fprintf(stderr, "decode_loop: %s failed: %s (%s)\n", #call, tt_status_string(st_), tt_last_error()); \
      goto done;                                                                                           \
    }                                                                                                      \
  } while (0)

/* xorshift64*: deterministic fake logits, so every run of the example is the same. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float next_uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (float)((rng_state * 0x2545f4914f6cdd1dull) >> 40) * (1.0f / 16777216.0f);
}

int main(void) {
  int ok = 0;
  char dir[] = "/tmp/telltale-example-XXXXXX";
  char key_path[sizeof dir + 16];
  int have_dir = 0, have_key_file = 0;
  tt_keyring *keys = NULL;
  tt_hook *hook = NULL;
  tt_detector *det = NULL;
  tt_seq *seqs[kBatch] = {NULL};
  static float logits[kBatch][kVocab];
  static int32_t tokens[kBatch][kPromptLen + kSteps];

  /* 1. Keys: generate once and keep the file private (0600); servers load it at start-up. */
  if (mkdtemp(dir) == NULL) {
    perror("decode_loop: mkdtemp");
    return 1;
  }
  have_dir = 1;
  snprintf(key_path, sizeof key_path, "%s/watermark.key", dir);
  {
    tt_keyring *fresh = NULL;
    CHECK(tt_keyring_generate(&fresh));
    tt_status st = tt_keyring_save(fresh, key_path);
    tt_keyring_free(fresh); /* wipes the secret */
    CHECK(st);
    have_key_file = 1;
  }
  CHECK(tt_keyring_load(key_path, &keys));

  /* 2. The hook: KGW with a large delta, so that every watermarked step picks a green id and the check below is
   *    certain rather than probable. Production values are gamma 0.25, delta 2 (tt_params_default). */
  tt_params params = tt_params_default(TT_SCHEME_KGW, kVocab);
  params.delta = 20.0f;
  CHECK(tt_hook_create(keys, &params, &hook));
  CHECK(tt_detector_create(keys, &params, &det));
  tt_keyring_free(keys); /* hooks and detectors keep their own subkeys */
  keys = NULL;

  /* 3. One sequence per request; the prompt is replayed through accept (prompt tokens count as context). */
  for (int b = 0; b < kBatch; ++b) {
    CHECK(tt_seq_create(hook, /*account=*/(uint64_t)b, /*rng_seed=*/(uint64_t)(1000 + b), &seqs[b]));
    for (int i = 0; i < kPromptLen; ++i) {
      tokens[b][i] = (int32_t)(next_uniform() * kVocab);
      tt_seq_accept(seqs[b], tokens[b][i]);
    }
  }

  /* 4. The decode loop: one batched call per step, in place, no allocation. */
  const tt_logits_view view = {&logits[0][0], kBatch, kVocab, kVocab};
  for (int step = 0; step < kSteps; ++step) {
    for (int b = 0; b < kBatch; ++b) {
      for (int v = 0; v < kVocab; ++v) logits[b][v] = 8.0f * (next_uniform() - 0.5f); /* the model's output */
    }
    CHECK(tt_hook_bias(hook, seqs, view, /*top_k=*/0));
    for (int b = 0; b < kBatch; ++b) {
      int best = 0; /* the server's sampler: greedy here; any sampler works after bias */
      for (int v = 1; v < kVocab; ++v) {
        if (logits[b][v] > logits[b][best]) best = v;
      }
      tokens[b][kPromptLen + step] = best;
      tt_seq_accept(seqs[b], best); /* the only call that advances a sequence */
    }
  }

  /* 5. Detection: score every generated token after its window; KGW scores 1 for green. */
  {
    const size_t w = tt_detector_window_size(det);
    double green = 0;
    int scored = 0;
    for (int b = 0; b < kBatch; ++b) {
      for (int i = kPromptLen; i < kPromptLen + kSteps; ++i) {
        double score = 0;
        CHECK(tt_detector_score(det, &tokens[b][i - (int)w], w, tokens[b][i], &score));
        green += score;
        ++scored;
      }
    }
    /* Unwatermarked text is green with probability gamma per token: z is the count's distance from that, in
     * standard deviations. z > 10 has probability below 1e-20 for text that never saw the key. */
    const double gamma = params.gamma;
    const double z = (green - gamma * scored) / sqrt(scored * gamma * (1.0 - gamma));
    printf("decode_loop: %d sequences x %d tokens, green fraction %.3f (gamma %.2f), z = %.1f\n", kBatch, kSteps,
           green / scored, gamma, z);
    if (!(z > 10.0)) {
      fprintf(stderr, "decode_loop: the generated tokens are not watermarked beyond doubt\n");
      goto done;
    }
  }
  ok = 1;

done:
  for (int b = 0; b < kBatch; ++b) tt_seq_free(seqs[b]); /* sequences before their hook */
  tt_detector_free(det);
  tt_hook_free(hook);
  tt_keyring_free(keys);
  if (have_key_file) unlink(key_path);
  if (have_dir) rmdir(dir);
  return ok ? 0 : 1;
}
