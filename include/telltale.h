/* telltale.h: the C ABI of the telltale watermarking hook. Plain C types, opaque handles, status codes; nothing
 * throws across it. Every function returns tt_status (or nothing) and writes outputs through pointers.
 *
 * Objects:
 *   tt_keyring  the master secret (libsodium secure memory) and its public key id.
 *   tt_hook     one scheme with its parameters and subkeys; immutable after creation, share it across threads.
 *   tt_seq      one generating sequence: its context window and repeated-context memory. One writer at a time.
 *   tt_detector the detection side of a hook; one per thread.
 * A hook must outlive its sequences; a keyring may be freed once hooks and detectors are created from it. */
#ifndef TELLTALE_H_
#define TELLTALE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TT_API __attribute__((visibility("default")))
#else
#define TT_API
#endif

#define TT_VERSION_MAJOR 0
#define TT_VERSION_MINOR 1
#define TT_VERSION_PATCH 0
#define TT_VERSION_NUMBER (TT_VERSION_MAJOR * 10000 + TT_VERSION_MINOR * 100 + TT_VERSION_PATCH)

#define TT_KEY_ID_BYTES 32
#define TT_MASTER_SECRET_BYTES 32
#define TT_MAX_CONTEXT_WIDTH 16

typedef struct tt_keyring tt_keyring;
typedef struct tt_hook tt_hook;
typedef struct tt_seq tt_seq;
typedef struct tt_detector tt_detector;

typedef enum tt_status {
  TT_OK = 0,
  TT_ERR_INVALID_ARGUMENT = -1,
  TT_ERR_KEY = -2,
  TT_ERR_UNSUPPORTED = -3,
  TT_ERR_NO_MEMORY = -4,
  TT_ERR_STATE = -5,
  TT_ERR_IO = -6,
  TT_ERR_INCOMPLETE = -7, /* the candidates cannot decide the result exactly: use the dense call */
  TT_ERR_INTERNAL = -8
} tt_status;

typedef enum tt_scheme {
  TT_SCHEME_KGW = 0,        /* red/green bias: use tt_hook_bias (or tt_hook_choose) */
  TT_SCHEME_GUMBEL = 1,     /* Gumbel-max: makes the draw, use tt_hook_choose */
  TT_SCHEME_TOURNAMENT = 2, /* SynthID-style tournament: tt_hook_bias writes its log-probabilities, or choose */
  TT_SCHEME_FINGERPRINT = 3 /* account fingerprint: KGW zero-bit layer + account layer; tt_hook_bias or choose. Each
                               tt_seq carries its account id (tt_seq_create's account, 0 .. 2^32 - 1) */
} tt_scheme;

/* How a tournament detector scores a token (tt_params.tournament_score; other schemes take only TT_TOURNAMENT_MEAN). */
typedef enum tt_tournament_score {
  TT_TOURNAMENT_MEAN = 0,         /* the number of g-values equal to 1 */
  TT_TOURNAMENT_WEIGHTED_MEAN = 1 /* SynthID's weighted mean: sum over layers l of w_l g_l, w_l = round(10 - 9 l /
                                     (m - 1)) (spec/synthid.md) */
} tt_tournament_score;

/* Scheme parameters. Start from tt_params_default and change what you need. */
typedef struct tt_params {
  int32_t scheme;                 /* tt_scheme */
  uint32_t vocab_size;            /* the tokenizer's vocabulary size; ids >= vocab_size are never favoured */
  uint32_t context_width;         /* h, tokens seeding a step, 1..16 */
  int32_t self_hash;              /* 1: seed with the last h-1 tokens and the candidate itself */
  int32_t skip_repeated_contexts; /* 1: leave a step unwatermarked when its context was already watermarked */
  uint32_t context_history;       /* contexts a sequence remembers for that rule, 1..2^20 */
  double gamma;                   /* KGW: green fraction in (0, 1) */
  float delta;                    /* KGW: bias added to green logits, in logits, >= 0 */
  uint32_t tournament_layers;     /* tournament: m, 1..32 */
  float account_delta;            /* fingerprint: bias of the account layer, in logits, >= 0 (gamma/delta: its
                                     zero-bit KGW layer). Formerly fingerprint_delta: account_delta is its one name
                                     (records, CLI --account-delta, Python) */
  int32_t tournament_score;       /* detection of the tournament: a tt_tournament_score (0, the mean, for every other
                                     scheme; generation ignores it). It occupies what was the struct's tail padding,
                                     so sizeof(tt_params) is unchanged (48) and a caller built against an older header
                                     is never read past its struct; such a caller must zero the struct (= {0}, or
                                     tt_params_default): any value other than 0 or 1 is TT_ERR_INVALID_ARGUMENT */
} tt_params;

/* Dense float32 logits: element (r, v) is data[r * row_stride + v]; only v < n_vocab is read (row_stride >= n_vocab
 * allows padded rows). -inf marks an excluded id. */
typedef struct tt_logits_view {
  float *data;
  int64_t n_rows;
  int64_t n_vocab;
  int64_t row_stride;
} tt_logits_view;

/* Sparse candidates with byte strides; for llama.cpp: ids = &cur->data[0].id, logits = &cur->data[0].logit,
 * id_stride = logit_stride = sizeof(llama_token_data). */
typedef struct tt_candidates_view {
  int32_t *ids;
  float *logits;
  size_t n;
  size_t id_stride;
  size_t logit_stride;
} tt_candidates_view;

TT_API unsigned tt_version_number(void);
TT_API const char *tt_status_string(tt_status status);
/* The one-line message of the last failed call on this thread ("" if none). Never contains key material. */
TT_API const char *tt_last_error(void);

TT_API tt_params tt_params_default(tt_scheme scheme, uint32_t vocab_size);

TT_API tt_status tt_keyring_generate(tt_keyring **out);
TT_API tt_status tt_keyring_from_secret(const uint8_t *secret, size_t secret_len, tt_keyring **out);
/* Refuses files readable or writable by group or others, truncated, corrupt or of another version. */
TT_API tt_status tt_keyring_load(const char *path, tt_keyring **out);
/* Creates `path` with mode 0600; never overwrites. */
TT_API tt_status tt_keyring_save(const tt_keyring *keys, const char *path);
TT_API tt_status tt_keyring_key_id(const tt_keyring *keys, uint8_t out[TT_KEY_ID_BYTES]);
TT_API void tt_keyring_free(tt_keyring *keys); /* accepts NULL; wipes the secret */

TT_API tt_status tt_hook_create(const tt_keyring *keys, const tt_params *params, tt_hook **out);
TT_API void tt_hook_free(tt_hook *hook); /* accepts NULL */

/* account: carried by account-aware schemes (fingerprint: the 32-bit account id the sequence's text will carry;
 * larger values are TT_ERR_INVALID_ARGUMENT). rng_seed: seeds the fallback draws (no uniforms given, or a step that
 * is not watermarked). */
TT_API tt_status tt_seq_create(const tt_hook *hook, uint64_t account, uint64_t rng_seed, tt_seq **out);
TT_API tt_status tt_seq_clone(const tt_seq *seq, tt_seq **out); /* deep copy */
TT_API void tt_seq_reset(tt_seq *seq);
/* The token the server emitted, or a prompt token being replayed; prompt tokens count as context. */
TT_API void tt_seq_accept(tt_seq *seq, int32_t token);
TT_API void tt_seq_free(tt_seq *seq); /* accepts NULL */

/* Edits logits in place, one row per rows[r] (NULL: leave the row alone). top_k > 0: the server keeps only its top
 * top_k ids after this call; only ids that can still be among them are touched, and after the server's top-k the
 * row is bit-identical to top_k = 0. Allocation-free; disjoint row ranges may be processed on different threads. */
TT_API tt_status tt_hook_bias(const tt_hook *hook, tt_seq *const *rows, tt_logits_view logits, uint32_t top_k);
/* Candidates path (llama.cpp). top_k and excluded_max (an upper bound on the logit of every id not in the list,
 * -INFINITY when the list is complete) let the hook check that the result is exact; TT_ERR_INCOMPLETE if not. */
TT_API tt_status tt_hook_bias_candidates(const tt_hook *hook, tt_seq *seq, tt_candidates_view cand, uint32_t top_k,
                                         float excluded_max);
/* Makes the draw from the server's final logits (after temperature, top-k, top-p). uniforms[r] in [0, 1), or NULL
 * for each sequence's own fallback draws. out_tokens[r] receives the id (-1 for a NULL row). mask_others: set every
 * other logit of the row to -inf, for hosts that can only edit logits. KGW biases the row in place first. */
TT_API tt_status tt_hook_choose(const tt_hook *hook, tt_seq *const *rows, tt_logits_view logits, const float *uniforms,
                                int32_t *out_tokens, int mask_others);
/* uniform < 0: the sequence's fallback draw. Writes the index of the chosen entry. */
TT_API tt_status tt_hook_choose_candidates(const tt_hook *hook, tt_seq *seq, tt_candidates_view cand, float uniform,
                                           size_t *out_index);

/* Antidistillation: an adjustment added to the logits before the watermark's bias or draw (the tt_hook_*_adjusted
 * calls; the plain calls are these with NULL). Row r's values are values[r * row_stride + v], v < n_vocab, all
 * finite; lambda (logits per unit of value) finite. values NULL or lambda 0: no adjustment, bits unchanged. Dense
 * calls need n_rows and n_vocab equal to the logits'; candidate calls read one row (n_rows = 1) indexed by id. A
 * candidate call's top_k check widens excluded_max by the largest adjustment, so that the result stays exact. */
typedef enum tt_adjustment_kind {
  TT_ADJUST_ADD = 0,          /* id v gets lambda * values[v] (antidistillation sampling: values = the proxy's
                                 finite difference [ln p(v; theta + eps g) - ln p(v; theta - eps g)] / (2 eps)) */
  TT_ADJUST_GREEN_ALIGNED = 1 /* values = a proxy's probabilities q; id v gets lambda q_v (1[v green] - L), L = the
                                 proxy's green mass (antidistillation fingerprinting; KGW and fingerprint schemes) */
} tt_adjustment_kind;

typedef struct tt_adjustment_view {
  const float *values;
  int64_t n_rows;
  int64_t n_vocab;
  int64_t row_stride;
  float lambda;
  int32_t kind; /* tt_adjustment_kind */
} tt_adjustment_view;

TT_API tt_status tt_hook_bias_adjusted(const tt_hook *hook, tt_seq *const *rows, tt_logits_view logits, uint32_t top_k,
                                       const tt_adjustment_view *adjustment);
TT_API tt_status tt_hook_bias_candidates_adjusted(const tt_hook *hook, tt_seq *seq, tt_candidates_view cand,
                                                  uint32_t top_k, float excluded_max,
                                                  const tt_adjustment_view *adjustment);
TT_API tt_status tt_hook_choose_adjusted(const tt_hook *hook, tt_seq *const *rows, tt_logits_view logits,
                                         const float *uniforms, int32_t *out_tokens, int mask_others,
                                         const tt_adjustment_view *adjustment);
TT_API tt_status tt_hook_choose_candidates_adjusted(const tt_hook *hook, tt_seq *seq, tt_candidates_view cand,
                                                    float uniform, size_t *out_index,
                                                    const tt_adjustment_view *adjustment);

/* The tournament is scored as params->tournament_score says. */
TT_API tt_status tt_detector_create(const tt_keyring *keys, const tt_params *params, tt_detector **out);
/* Deprecated (use tt_params.tournament_score and tt_detector_create): tt_detector_create with `score` (a
 * tt_tournament_score) in place of params->tournament_score. Kept for callers built before the field existed. */
TT_API tt_status tt_detector_create_scored(const tt_keyring *keys, const tt_params *params, int32_t score,
                                           tt_detector **out);
/* The per-token score of `token` after `window` (window_len must equal tt_detector_window_size): KGW 1/0 (green),
 * Gumbel -ln(1-r), tournament the number of g-values equal to 1 or, weighted, sum_l w_l g_l. */
TT_API tt_status tt_detector_score(tt_detector *det, const int32_t *window, size_t window_len, int32_t token,
                                   double *out_score);
TT_API size_t tt_detector_window_size(const tt_detector *det);
TT_API void tt_detector_free(tt_detector *det); /* accepts NULL */

#ifdef __cplusplus
}
#endif

#endif /* TELLTALE_H_ */
