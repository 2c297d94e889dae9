/* llama_generate.c: generates text with a real llama.cpp and the telltale sampler in its chain, for the end-to-end
 * tests (scripts/test-llama-cpp) and the throughput bench. Prints the text on stdout; exits 1 if a self-check fails.
 *
 *   llama_generate --model M.gguf --key K --mode bias|choose|none [--scheme kgw|gumbel|tournament]
 *                  [--order first|before-dist] [--seed N] [--tokens N] [--temp T] [--top-p P] [--prompt TEXT]
 *                  [--self-check] [--bench]
 *
 * Chains: bias/first   telltale(bias), temp, top-p, dist   (the recommended order, docs/integration-llama-cpp.md)
 *         bias/before-dist  temp, top-p, telltale(bias), dist
 *         choose       temp, top-p, telltale(choose)        (in place of dist)
 *         none         temp, top-p, dist                    (the control)
 * Each step is llama_sampler_sample's own body (apply the chain, take cur_p.selected, accept into the chain), written
 * out so that --self-check can look at the candidates. With it the generation runs twice; the second time the telltale
 * member's apply is called an extra time on every step (as a grammar resample does), and (1) the tokens must be the
 * same as the first time; (2) in bias/first order that extra apply's output must equal the C ABI's
 * tt_hook_bias_candidates on a sequence fed the same tokens, bit for bit, at every step: the prompt reached the
 * sampler through the chain's accept (as llama-server replays it) and every generated token after it. --bench prints
 * the decode's, the chain's and the telltale member's own (the chain then applied member by member) CPU microseconds
 * per generated token on stderr, as one JSON line. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama.h"
#include "telltale_llama_sampler.h"

enum { kMaxTokens = 4096 };

struct options {
  const char *model, *key, *mode, *scheme, *order, *prompt;
  uint32_t seed;
  int tokens;
  float temp, top_p;
  int self_check, bench;
};

struct run {
  struct llama_context *ctx;
  const struct llama_vocab *vocab;
  const tt_hook *hook;
  int32_t n_vocab;
  llama_token_data *cur;  /* n_vocab candidates */
  llama_token_data *copy; /* scratch for the checks */
  llama_token out[kMaxTokens];
  int n_out;
};

static void die(const char *msg) {
  fprintf(stderr, "llama_generate: %s\n", msg);
  exit(2);
}

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
  (void)user;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static struct options parse(int argc, char **argv) {
  struct options o = {NULL, NULL, NULL, "kgw", "first", "Once upon a time", 1, 200, 0.8f, 0.95f, 0, 0};
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--self-check") == 0) {
      o.self_check = 1;
      continue;
    }
    if (strcmp(a, "--bench") == 0) {
      o.bench = 1;
      continue;
    }
    if (v == NULL) die("every option but --self-check and --bench takes a value");
    ++i;
    if (strcmp(a, "--model") == 0)
      o.model = v;
    else if (strcmp(a, "--key") == 0)
      o.key = v;
    else if (strcmp(a, "--mode") == 0)
      o.mode = v;
    else if (strcmp(a, "--scheme") == 0)
      o.scheme = v;
    else if (strcmp(a, "--order") == 0)
      o.order = v;
    else if (strcmp(a, "--prompt") == 0)
      o.prompt = v;
    else if (strcmp(a, "--seed") == 0)
      o.seed = (uint32_t)strtoul(v, NULL, 10);
    else if (strcmp(a, "--tokens") == 0)
      o.tokens = atoi(v);
    else if (strcmp(a, "--temp") == 0)
      o.temp = strtof(v, NULL);
    else if (strcmp(a, "--top-p") == 0)
      o.top_p = strtof(v, NULL);
    else
      die("unknown option (see the usage at the top of llama_generate.c)");
  }
  if (o.model == NULL || o.mode == NULL) die("--model and --mode are required");
  if (strcmp(o.mode, "none") != 0 && o.key == NULL) die("--key is required unless --mode none");
  if (strcmp(o.mode, "bias") != 0 && strcmp(o.mode, "choose") != 0 && strcmp(o.mode, "none") != 0) {
    die("--mode must be bias, choose or none");
  }
  if (strcmp(o.order, "first") != 0 && strcmp(o.order, "before-dist") != 0) die("--order: first or before-dist");
  if (o.tokens < 1 || o.tokens > kMaxTokens - 256) die("--tokens must be in 1..3840");
  return o;
}

static tt_scheme scheme_of(const char *name) {
  if (strcmp(name, "kgw") == 0) return TT_SCHEME_KGW;
  if (strcmp(name, "gumbel") == 0) return TT_SCHEME_GUMBEL;
  if (strcmp(name, "tournament") == 0) return TT_SCHEME_TOURNAMENT;
  die("--scheme must be kgw, gumbel or tournament");
  return TT_SCHEME_KGW;
}

/* The chain for o; *tt_member is the telltale sampler inside it (NULL for --mode none). */
static struct llama_sampler *make_chain(const struct options *o, const tt_hook *hook, struct llama_sampler **member) {
  struct llama_sampler *chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  *member = NULL;
  const int bias = strcmp(o->mode, "bias") == 0, choose = strcmp(o->mode, "choose") == 0;
  if (bias || choose) {
    *member = telltale_llama_sampler_init(hook, bias ? TELLTALE_LLAMA_BIAS : TELLTALE_LLAMA_CHOOSE, 0, o->seed);
    if (*member == NULL) die("cannot create the telltale sampler");
  }
  if (bias && strcmp(o->order, "first") == 0) llama_sampler_chain_add(chain, *member);
  llama_sampler_chain_add(chain, llama_sampler_init_temp(o->temp));
  llama_sampler_chain_add(chain, llama_sampler_init_top_p(o->top_p, 1));
  if (bias && strcmp(o->order, "before-dist") == 0) llama_sampler_chain_add(chain, *member);
  llama_sampler_chain_add(chain, choose ? *member : llama_sampler_init_dist(o->seed));
  return chain;
}

/* This thread's CPU time: the decode runs on it (one thread) and so does the chain, and a busy machine's other work
 * does not count, as it would in wall-clock time. */
static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int same_candidates(const llama_token_data *a, const llama_token_data *b, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    if (a[i].id != b[i].id || memcmp(&a[i].logit, &b[i].logit, sizeof(float)) != 0) return 0;
  }
  return 1;
}

/* One generation from a cleared context. extra_apply: call the telltale member's apply once more per step, on a
 * scratch copy, before the chain runs. Returns the number of failed checks. */
static int generate(const struct options *o, struct run *r, int extra_apply, double *decode_s, double *sample_s,
                    double *member_s) {
  int failures = 0;
  struct llama_sampler *member = NULL;
  struct llama_sampler *chain = make_chain(o, r->hook, &member);
  tt_seq *ref = NULL; /* the C ABI's view of the same sequence */
  if (member != NULL && tt_seq_create(r->hook, 0, o->seed, &ref) != TT_OK) die("tt_seq_create failed");
  llama_memory_clear(llama_get_memory(r->ctx), true);

  llama_token prompt[256];
  const int32_t n_prompt = llama_tokenize(r->vocab, o->prompt, (int32_t)strlen(o->prompt), prompt, 256, true, false);
  if (n_prompt <= 0) die("the prompt does not tokenize into 1..256 tokens");
  for (int32_t i = 0; i < n_prompt; ++i) {
    llama_sampler_accept(chain, prompt[i]); /* the prompt replay llama-server does in init_sampler */
    if (ref != NULL) tt_seq_accept(ref, prompt[i]);
  }
  *decode_s = *sample_s = *member_s = 0;
  struct llama_batch batch = llama_batch_get_one(prompt, n_prompt);
  llama_token next = 0;
  r->n_out = 0;
  for (int step = 0; step < o->tokens; ++step) {
    const double t0 = now_seconds();
    if (llama_decode(r->ctx, batch) != 0) die("llama_decode failed");
    const double t1 = now_seconds();
    if (step > 0) *decode_s += t1 - t0; /* the prompt's decode is not a generation step */
    const float *logits = llama_get_logits_ith(r->ctx, -1);
    for (int32_t v = 0; v < r->n_vocab; ++v) r->cur[v] = (llama_token_data){v, logits[v], 0.0f};
    llama_token_data_array cur_p = {r->cur, (size_t)r->n_vocab, -1, false};
    if (member != NULL && extra_apply) {
      memcpy(r->copy, r->cur, sizeof(llama_token_data) * (size_t)r->n_vocab);
      llama_token_data_array scratch = {r->copy, (size_t)r->n_vocab, -1, false};
      llama_sampler_apply(member, &scratch); /* the extra apply; in bias/first order also what the chain will do */
      if (strcmp(o->mode, "bias") == 0 && strcmp(o->order, "first") == 0) {
        llama_token_data *want = r->copy + r->n_vocab;
        memcpy(want, r->cur, sizeof(llama_token_data) * (size_t)r->n_vocab);
        const tt_candidates_view v = {&want[0].id, &want[0].logit, (size_t)r->n_vocab, sizeof(llama_token_data),
                                      sizeof(llama_token_data)};
        if (tt_hook_bias_candidates(r->hook, ref, v, 0, -INFINITY) != TT_OK) die("tt_hook_bias_candidates failed");
        if (!same_candidates(r->copy, want, r->n_vocab)) {
          fprintf(stderr, "llama_generate: step %d: the sampler in the chain and the C ABI disagree\n", step);
          ++failures;
        }
      }
    }
    const double t2 = now_seconds();
    if (o->bench) { /* what the chain's apply does on the CPU, member by member, to time the telltale one */
      for (int32_t i = 0; i < llama_sampler_chain_n(chain); ++i) {
        struct llama_sampler *s = llama_sampler_chain_get(chain, i);
        const double tm = now_seconds();
        llama_sampler_apply(s, &cur_p);
        if (s == member) *member_s += now_seconds() - tm;
      }
    } else {
      llama_sampler_apply(chain, &cur_p);
    }
    *sample_s += now_seconds() - t2;
    if (cur_p.selected < 0 || cur_p.selected >= (int64_t)cur_p.size) die("the chain selected no token");
    next = cur_p.data[cur_p.selected].id;
    llama_sampler_accept(chain, next);
    if (ref != NULL) tt_seq_accept(ref, next);
    if (llama_vocab_is_eog(r->vocab, next)) break;
    r->out[r->n_out++] = next;
    batch = llama_batch_get_one(&next, 1);
  }
  if (member != NULL && telltale_llama_sampler_last_status(member) != TT_OK) {
    fprintf(stderr, "llama_generate: the sampler's last apply failed: %s\n", tt_last_error());
    ++failures;
  }
  tt_seq_free(ref);
  llama_sampler_free(chain);
  return failures;
}

static tt_hook *load_hook(const struct options *o, uint32_t n_vocab) {
  if (o->key == NULL) return NULL;
  tt_keyring *keys = NULL;
  tt_hook *hook = NULL;
  const tt_params params = tt_params_default(scheme_of(o->scheme), n_vocab);
  if (tt_keyring_load(o->key, &keys) != TT_OK || tt_hook_create(keys, &params, &hook) != TT_OK) {
    fprintf(stderr, "llama_generate: cannot load the key or create the hook: %s\n", tt_last_error());
    exit(2);
  }
  tt_keyring_free(keys);
  return hook;
}

int main(int argc, char **argv) {
  const struct options o = parse(argc, argv);
  llama_log_set(quiet_log, NULL);
  llama_backend_init();
  struct llama_model *model = llama_model_load_from_file(o.model, llama_model_default_params());
  if (model == NULL) die("cannot load the model");
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)kMaxTokens;
  cp.n_batch = 256;
  cp.n_threads = cp.n_threads_batch = 1;
  struct run *r = (struct run *)calloc(1, sizeof *r);
  if (r == NULL) die("out of memory");
  r->ctx = llama_init_from_model(model, cp);
  if (r->ctx == NULL) die("cannot create the llama.cpp context");
  r->vocab = llama_model_get_vocab(model);
  r->n_vocab = llama_vocab_n_tokens(r->vocab);
  r->cur = (llama_token_data *)malloc(sizeof(llama_token_data) * (size_t)r->n_vocab);
  r->copy = (llama_token_data *)malloc(2 * sizeof(llama_token_data) * (size_t)r->n_vocab);
  if (r->cur == NULL || r->copy == NULL) die("out of memory");
  tt_hook *hook = load_hook(&o, (uint32_t)r->n_vocab);
  r->hook = hook;

  double decode_s = 0, sample_s = 0, member_s = 0;
  int failures = generate(&o, r, 0, &decode_s, &sample_s, &member_s);
  if (o.bench) { /* one line of JSON for bench/llama_throughput.py */
    fprintf(stderr,
            "{\"mode\": \"%s\", \"tokens\": %d, \"decode_us_per_token\": %.3f, \"chain_us_per_token\": %.3f, "
            "\"sampler_us_per_token\": %.3f}\n",
            o.mode, r->n_out, 1e6 * decode_s / r->n_out, 1e6 * sample_s / r->n_out, 1e6 * member_s / r->n_out);
  }
  for (int i = 0; i < r->n_out; ++i) {
    char piece[256];
    const int32_t n = llama_token_to_piece(r->vocab, r->out[i], piece, sizeof piece, 0, false);
    if (n > 0) fwrite(piece, 1, (size_t)n, stdout);
  }
  fputc('\n', stdout);
  if (o.self_check && hook != NULL) {
    llama_token first[kMaxTokens];
    const int n_first = r->n_out;
    memcpy(first, r->out, sizeof(llama_token) * (size_t)n_first);
    double again_decode = 0, again_sample = 0, again_member = 0;
    failures += generate(&o, r, 1, &again_decode, &again_sample, &again_member);
    if (r->n_out != n_first || memcmp(first, r->out, sizeof(llama_token) * (size_t)n_first) != 0) {
      fprintf(stderr, "llama_generate: an extra apply on every step changed the generated tokens\n");
      ++failures;
    }
  }
  free(r->cur);
  free(r->copy);
  llama_free(r->ctx);
  free(r);
  tt_hook_free(hook);
  llama_model_free(model);
  llama_backend_free();
  if (failures) fprintf(stderr, "llama_generate: %d self-check failure(s)\n", failures);
  return failures ? 1 : 0;
}
