// The C ABI (include/telltale.h): a thin layer over the C++ API. No exception crosses it: every entry point that can
// fail runs behind guarded(), and errors become tt_status plus a thread-local one-line message.
#include "telltale.h"

#include <cstddef>
#include <new>
#include <string>

#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

struct tt_keyring {
  telltale::KeyRing keys;
};
struct tt_hook {
  telltale::Hook hook;
};
struct tt_seq {
  telltale::SeqState state;
};
struct tt_detector {
  telltale::Detector det;
};

namespace {

using telltale::StatusCode;
static_assert(static_cast<int>(StatusCode::kOk) == TT_OK);
static_assert(static_cast<int>(StatusCode::kInvalidArgument) == TT_ERR_INVALID_ARGUMENT);
static_assert(static_cast<int>(StatusCode::kKey) == TT_ERR_KEY);
static_assert(static_cast<int>(StatusCode::kUnsupported) == TT_ERR_UNSUPPORTED);
static_assert(static_cast<int>(StatusCode::kNoMemory) == TT_ERR_NO_MEMORY);
static_assert(static_cast<int>(StatusCode::kState) == TT_ERR_STATE);
static_assert(static_cast<int>(StatusCode::kIo) == TT_ERR_IO);
static_assert(static_cast<int>(StatusCode::kIncomplete) == TT_ERR_INCOMPLETE);
static_assert(static_cast<int>(StatusCode::kInternal) == TT_ERR_INTERNAL);
static_assert(static_cast<int>(telltale::SchemeKind::kKgw) == TT_SCHEME_KGW);
static_assert(static_cast<int>(telltale::SchemeKind::kGumbel) == TT_SCHEME_GUMBEL);
static_assert(static_cast<int>(telltale::SchemeKind::kTournament) == TT_SCHEME_TOURNAMENT);
static_assert(static_cast<int>(telltale::SchemeKind::kFingerprint) == TT_SCHEME_FINGERPRINT);
static_assert(static_cast<int>(telltale::TournamentScore::kMean) == TT_TOURNAMENT_MEAN);
static_assert(static_cast<int>(telltale::TournamentScore::kWeightedMean) == TT_TOURNAMENT_WEIGHTED_MEAN);
// tournament_score sits in what was the struct's tail padding: a caller built against the older header passes a
// struct of the same size, so nothing past its end is read.
static_assert(sizeof(tt_params) == 48 && offsetof(tt_params, tournament_score) == 44);

thread_local std::string g_last_error;

// Records the message; if even that cannot allocate, the message is left empty rather than thrown.
void set_last_error(const char* message) noexcept {
  try {
    g_last_error = message;
  } catch (...) {
    g_last_error.clear();
  }
}

tt_status fail(tt_status code, const char* message) {
  set_last_error(message);
  return code;
}

tt_status fail(const telltale::Status& s) { return fail(static_cast<tt_status>(s.code()), s.message().c_str()); }

// The exception barrier of every entry point that returns a status.
template <typename Body>
tt_status guarded(Body body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(TT_ERR_NO_MEMORY, "out of memory");
  } catch (...) {
    return fail(TT_ERR_INTERNAL, "internal error: unexpected exception");
  }
}

tt_status done(const telltale::Status& s) { return s.is_ok() ? TT_OK : fail(s); }

telltale::SchemeParams to_cpp(const tt_params& p) {
  telltale::SchemeParams s;
  s.scheme = static_cast<telltale::SchemeKind>(p.scheme);
  s.vocab_size = p.vocab_size;
  s.context_width = p.context_width;
  s.self_hash = p.self_hash != 0;
  s.skip_repeated_contexts = p.skip_repeated_contexts != 0;
  s.context_history = p.context_history;
  s.kgw.gamma = p.gamma;
  s.kgw.delta = p.delta;
  s.tournament.layers = p.tournament_layers;
  s.fingerprint.account_delta = p.account_delta;
  s.tournament.score = static_cast<telltale::TournamentScore>(p.tournament_score);
  return s;
}

telltale::LogitsView to_cpp(const tt_logits_view& v) { return {v.data, v.n_rows, v.n_vocab, v.row_stride}; }

telltale::CandidatesView to_cpp(const tt_candidates_view& c) {
  return {c.ids, c.logits, c.n, c.id_stride, c.logit_stride};
}

// Runs `call` over the rows in chunks of 64 with the tt_seq handles converted on the stack: no allocation.
template <typename Call>
tt_status over_rows(tt_seq* const* rows, const tt_logits_view& logits, Call call) {
  if (rows == nullptr && logits.n_rows > 0) return fail(TT_ERR_INVALID_ARGUMENT, "rows is null");
  if (logits.n_rows < 0) return fail(TT_ERR_INVALID_ARGUMENT, "n_rows is negative");
  constexpr int64_t kChunk = 64;
  telltale::SeqState* states[kChunk];
  for (int64_t r0 = 0; r0 < logits.n_rows; r0 += kChunk) {
    const int64_t n = logits.n_rows - r0 < kChunk ? logits.n_rows - r0 : kChunk;
    for (int64_t i = 0; i < n; ++i) states[i] = rows[r0 + i] != nullptr ? &rows[r0 + i]->state : nullptr;
    telltale::LogitsView part = to_cpp(logits);
    part.data = logits.data == nullptr ? nullptr : logits.data + r0 * logits.row_stride;
    part.n_rows = n;
    const telltale::Status s = call(std::span<telltale::SeqState* const>(states, static_cast<size_t>(n)), part, r0);
    if (!s.is_ok()) return fail(s);
  }
  return TT_OK;
}

// tt_hook_create and tt_detector_create: the arguments checked, the C++ object made (Made::create) and boxed.
template <typename Made, typename Handle>
tt_status create_handle(const tt_keyring* keys, const tt_params* params, Handle** out) {
  return guarded([&] {
    if (keys == nullptr || params == nullptr || out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    auto made = Made::create(keys->keys, to_cpp(*params));
    if (!made) return fail(made.status());
    *out = new (std::nothrow) Handle{std::move(made).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

// Rows [r0, r0 + n) of a C adjustment (NULL: none) for one chunk of over_rows, whose calls cover `total` rows. An
// adjustment with another row count keeps it, so that the core refuses it.
telltale::Adjustment rows_of(const tt_adjustment_view* a, int64_t r0, int64_t n, int64_t total) {
  if (a == nullptr) return {};
  telltale::Adjustment out;
  const bool whole = a->n_rows == total;
  out.values = a->values == nullptr || !whole ? a->values : a->values + r0 * a->row_stride;
  out.n_rows = whole ? n : a->n_rows;
  out.n_vocab = a->n_vocab;
  out.row_stride = a->row_stride;
  out.lambda = a->lambda;
  const bool known = a->kind == TT_ADJUST_ADD || a->kind == TT_ADJUST_GREEN_ALIGNED;
  out.kind = static_cast<telltale::AdjustmentKind>(known ? a->kind : 255);
  return out;
}

// A dense call's adjustment must have one row per logits row (checked before the rows are cut into chunks).
bool rows_match(const tt_adjustment_view* a, const tt_logits_view& logits) {
  return a == nullptr || a->values == nullptr || a->lambda == 0 || a->n_rows == logits.n_rows;
}

}  // namespace

extern "C" {

unsigned tt_version_number(void) { return TT_VERSION_NUMBER; }

const char* tt_status_string(tt_status status) {
  switch (status) {
    case TT_OK: return "ok";
    case TT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case TT_ERR_KEY: return "key error";
    case TT_ERR_UNSUPPORTED: return "unsupported";
    case TT_ERR_NO_MEMORY: return "out of memory";
    case TT_ERR_STATE: return "invalid state";
    case TT_ERR_IO: return "i/o error";
    case TT_ERR_INCOMPLETE: return "candidates incomplete";
    case TT_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char* tt_last_error(void) { return g_last_error.c_str(); }

tt_params tt_params_default(tt_scheme scheme, uint32_t vocab_size) {
  const telltale::SchemeParams s = telltale::default_params(static_cast<telltale::SchemeKind>(scheme), vocab_size);
  tt_params p{};
  p.scheme = static_cast<int32_t>(s.scheme);
  p.vocab_size = s.vocab_size;
  p.context_width = s.context_width;
  p.self_hash = s.self_hash ? 1 : 0;
  p.skip_repeated_contexts = s.skip_repeated_contexts ? 1 : 0;
  p.context_history = s.context_history;
  p.gamma = s.kgw.gamma;
  p.delta = s.kgw.delta;
  p.tournament_layers = s.tournament.layers;
  p.account_delta = s.fingerprint.account_delta;
  p.tournament_score = static_cast<int32_t>(s.tournament.score);
  return p;
}

tt_status tt_keyring_generate(tt_keyring** out) {
  return guarded([&] {
    if (out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "out is null");
    auto keys = telltale::KeyRing::generate();
    if (!keys) return fail(keys.status());
    *out = new (std::nothrow) tt_keyring{std::move(keys).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

tt_status tt_keyring_from_secret(const uint8_t* secret, size_t secret_len, tt_keyring** out) {
  return guarded([&] {
    if (out == nullptr || secret == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    auto keys = telltale::KeyRing::from_secret({secret, secret_len});
    if (!keys) return fail(keys.status());
    *out = new (std::nothrow) tt_keyring{std::move(keys).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

tt_status tt_keyring_load(const char* path, tt_keyring** out) {
  return guarded([&] {
    if (out == nullptr || path == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    auto keys = telltale::read_key_file(path);
    if (!keys) return fail(keys.status());
    *out = new (std::nothrow) tt_keyring{std::move(keys).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

tt_status tt_keyring_save(const tt_keyring* keys, const char* path) {
  return guarded([&] {
    if (keys == nullptr || path == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    return done(telltale::write_key_file(keys->keys, path));
  });
}

tt_status tt_keyring_key_id(const tt_keyring* keys, uint8_t out[TT_KEY_ID_BYTES]) {
  return guarded([&] {
    if (keys == nullptr || out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    const auto& id = keys->keys.key_id();
    for (size_t i = 0; i < id.size(); ++i) out[i] = id[i];
    return TT_OK;
  });
}

void tt_keyring_free(tt_keyring* keys) { delete keys; }

tt_status tt_hook_create(const tt_keyring* keys, const tt_params* params, tt_hook** out) {
  return create_handle<telltale::Hook>(keys, params, out);
}

void tt_hook_free(tt_hook* hook) { delete hook; }

tt_status tt_seq_create(const tt_hook* hook, uint64_t account, uint64_t rng_seed, tt_seq** out) {
  return guarded([&] {
    if (hook == nullptr || out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    auto seq = hook->hook.new_sequence(account, rng_seed);
    if (!seq) return fail(seq.status());
    *out = new (std::nothrow) tt_seq{std::move(seq).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

tt_status tt_seq_clone(const tt_seq* seq, tt_seq** out) {
  return guarded([&] {
    if (seq == nullptr || out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    auto copy = seq->state.clone();
    if (!copy) return fail(copy.status());
    *out = new (std::nothrow) tt_seq{std::move(copy).value()};
    return *out != nullptr ? TT_OK : fail(TT_ERR_NO_MEMORY, "out of memory");
  });
}

void tt_seq_reset(tt_seq* seq) {
  if (seq != nullptr) seq->state.reset();
}

void tt_seq_accept(tt_seq* seq, int32_t token) {
  if (seq != nullptr) seq->state.accept(token);
}

void tt_seq_free(tt_seq* seq) { delete seq; }

tt_status tt_hook_bias(const tt_hook* hook, tt_seq* const* rows, tt_logits_view logits, uint32_t top_k) {
  return tt_hook_bias_adjusted(hook, rows, logits, top_k, nullptr);
}

tt_status tt_hook_bias_adjusted(const tt_hook* hook, tt_seq* const* rows, tt_logits_view logits, uint32_t top_k,
                                const tt_adjustment_view* adjustment) {
  return guarded([&] {
    if (hook == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "hook is null");
    if (!rows_match(adjustment, logits)) return fail(TT_ERR_INVALID_ARGUMENT, "one adjustment row per logits row");
    telltale::BiasOptions options;
    options.top_k = top_k;
    return over_rows(
        rows, logits, [&](std::span<telltale::SeqState* const> states, const telltale::LogitsView& part, int64_t r0) {
          return hook->hook.bias(states, part, options, rows_of(adjustment, r0, part.n_rows, logits.n_rows));
        });
  });
}

tt_status tt_hook_bias_candidates(const tt_hook* hook, tt_seq* seq, tt_candidates_view cand, uint32_t top_k,
                                  float excluded_max) {
  return tt_hook_bias_candidates_adjusted(hook, seq, cand, top_k, excluded_max, nullptr);
}

tt_status tt_hook_bias_candidates_adjusted(const tt_hook* hook, tt_seq* seq, tt_candidates_view cand, uint32_t top_k,
                                           float excluded_max, const tt_adjustment_view* adjustment) {
  return guarded([&] {
    if (hook == nullptr || seq == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    telltale::CandidateBound bound;
    bound.top_k = top_k;
    bound.excluded_max = excluded_max;
    return done(hook->hook.bias_candidates(seq->state, to_cpp(cand), bound, rows_of(adjustment, 0, 1, 1)));
  });
}

tt_status tt_hook_choose(const tt_hook* hook, tt_seq* const* rows, tt_logits_view logits, const float* uniforms,
                         int32_t* out_tokens, int mask_others) {
  return tt_hook_choose_adjusted(hook, rows, logits, uniforms, out_tokens, mask_others, nullptr);
}

tt_status tt_hook_choose_adjusted(const tt_hook* hook, tt_seq* const* rows, tt_logits_view logits,
                                  const float* uniforms, int32_t* out_tokens, int mask_others,
                                  const tt_adjustment_view* adjustment) {
  return guarded([&] {
    if (hook == nullptr || out_tokens == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    if (!rows_match(adjustment, logits)) return fail(TT_ERR_INVALID_ARGUMENT, "one adjustment row per logits row");
    return over_rows(
        rows, logits, [&](std::span<telltale::SeqState* const> states, const telltale::LogitsView& part, int64_t r0) {
          return hook->hook.choose(states, part, uniforms != nullptr ? uniforms + r0 : nullptr, out_tokens + r0,
                                   mask_others != 0, rows_of(adjustment, r0, part.n_rows, logits.n_rows));
        });
  });
}

tt_status tt_hook_choose_candidates(const tt_hook* hook, tt_seq* seq, tt_candidates_view cand, float uniform,
                                    size_t* out_index) {
  return tt_hook_choose_candidates_adjusted(hook, seq, cand, uniform, out_index, nullptr);
}

tt_status tt_hook_choose_candidates_adjusted(const tt_hook* hook, tt_seq* seq, tt_candidates_view cand, float uniform,
                                             size_t* out_index, const tt_adjustment_view* adjustment) {
  return guarded([&] {
    if (hook == nullptr || seq == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    return done(
        hook->hook.choose_candidates(seq->state, to_cpp(cand), uniform, out_index, rows_of(adjustment, 0, 1, 1)));
  });
}

tt_status tt_detector_create(const tt_keyring* keys, const tt_params* params, tt_detector** out) {
  return create_handle<telltale::Detector>(keys, params, out);
}

tt_status tt_detector_create_scored(const tt_keyring* keys, const tt_params* params, int32_t score, tt_detector** out) {
  return guarded([&] {
    if (keys == nullptr || params == nullptr || out == nullptr) return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    // Deprecated: `score` overrides params->tournament_score; the core checks it (validate).
    tt_params scored = *params;
    scored.tournament_score = score;
    return tt_detector_create(keys, &scored, out);
  });
}

tt_status tt_detector_score(tt_detector* det, const int32_t* window, size_t window_len, int32_t token,
                            double* out_score) {
  return guarded([&] {
    if (det == nullptr || out_score == nullptr || (window == nullptr && window_len > 0)) {
      return fail(TT_ERR_INVALID_ARGUMENT, "null argument");
    }
    if (window_len != det->det.window_size()) {
      return fail(TT_ERR_INVALID_ARGUMENT, "window length must equal h (h-1 for self-hash)");
    }
    *out_score = det->det.score({window, window_len}, token);
    return TT_OK;
  });
}

size_t tt_detector_window_size(const tt_detector* det) { return det == nullptr ? 0 : det->det.window_size(); }

void tt_detector_free(tt_detector* det) { delete det; }

}  // extern "C"
