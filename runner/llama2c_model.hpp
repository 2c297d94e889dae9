// A reference runner for Llama-architecture models in llama2.c's legacy .bin format: a port of
// run.c's forward pass that gives real next-token logits to telltale's tests and benches.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::refmodel {

// The seven int32 of the file header, as run.c reads them, plus what the sign of vocab_size says.
struct Llama2cConfig {
  int dim = 0;         // width of the residual stream
  int hidden_dim = 0;  // width of the SwiGLU feed-forward layer
  int n_layers = 0;
  int n_heads = 0;                // query heads; head size is dim / n_heads
  int n_kv_heads = 0;             // key/value heads (< n_heads means grouped-query attention)
  int vocab_size = 0;             // always positive here; the file stores -vocab_size for an unshared classifier
  int seq_len = 0;                // the longest context the KV cache holds, in tokens
  bool shared_classifier = true;  // the classifier reuses the token embedding table
};

// The model, its weights and its run state (KV cache and scratch buffers), all allocated by load().
// Not thread-safe: forward() writes the run state. Move-only, since the state is large.
class Llama2cModel {
 public:
  // Reads the whole file at `path`. Refuses, with a one-line message and without crashing, a
  // missing or unreadable file (io_error), a file shorter than its header, a header with zero,
  // negative or absurd sizes or shapes run.c cannot run (invalid_argument / unsupported), a file
  // whose size differs from what the header implies, and weights that are not finite.
  // Runs whose KV cache and buffers would exceed kMaxStateBytes are refused too.
  static Result<Llama2cModel> load(const std::string& path);

  // A run state larger than this is refused at load: this runner is for small reference models,
  // and a corrupt header must not make it zero gigabytes of memory.
  static constexpr std::size_t kMaxStateBytes = std::size_t{1} << 30;

  Llama2cModel(Llama2cModel&&) noexcept = default;
  Llama2cModel& operator=(Llama2cModel&&) noexcept = default;
  Llama2cModel(const Llama2cModel&) = delete;
  Llama2cModel& operator=(const Llama2cModel&) = delete;
  ~Llama2cModel() = default;

  int vocab_size() const { return config_.vocab_size; }
  int seq_len() const { return config_.seq_len; }
  int dim() const { return config_.dim; }
  const Llama2cConfig& config() const { return config_; }

  // run.c's forward(): feeds `token` (0 <= token < vocab_size) at position `pos` and returns the
  // vocab_size logits (unnormalised log-probabilities) for the token at pos + 1. The span points
  // into the model and stays valid until the next forward() or the model's destruction or move.
  // Positions must be fed in order: pos may be at most one past the last position fed since load()
  // or reset(); feeding an earlier position again rewinds the context to it. Out-of-range token or
  // pos returns an empty span and changes nothing. Never allocates.
  std::span<const float> forward(int token, int pos);

  // Forgets the context, so the next forward() must start at pos 0. O(1): the KV cache is not
  // cleared because forward() overwrites a position before it ever reads it.
  void reset() { next_pos_ = 0; }

 private:
  Llama2cModel() = default;

  // Offsets into weights_ (in floats) of each tensor, in run.c's file order.
  struct Offsets {
    std::size_t token_embedding = 0;  // (vocab_size, dim)
    std::size_t rms_att = 0;          // (n_layers, dim)
    std::size_t wq = 0;               // (n_layers, dim, n_heads * head_size)
    std::size_t wk = 0;               // (n_layers, dim, n_kv_heads * head_size)
    std::size_t wv = 0;               // (n_layers, dim, n_kv_heads * head_size)
    std::size_t wo = 0;               // (n_layers, n_heads * head_size, dim)
    std::size_t rms_ffn = 0;          // (n_layers, dim)
    std::size_t w1 = 0;               // (n_layers, hidden_dim, dim)
    std::size_t w2 = 0;               // (n_layers, dim, hidden_dim)
    std::size_t w3 = 0;               // (n_layers, hidden_dim, dim)
    std::size_t rms_final = 0;        // (dim)
    std::size_t wcls = 0;             // (vocab_size, dim); == token_embedding when shared
  };

  Llama2cConfig config_;
  Offsets offsets_;
  std::vector<float> weights_;  // every float after the header, in file order
  int next_pos_ = 0;            // positions [0, next_pos_) hold valid keys and values

  // run.c's RunState.
  std::vector<float> x_, xb_, xb2_, hb_, hb2_, q_, att_, logits_;
  std::vector<float> key_cache_, value_cache_;  // (n_layers, seq_len, kv_dim)
};

}  // namespace telltale::refmodel
