// Loading and running llama2.c-format models: a port of run.c's read_checkpoint() and forward().
// Its float operations are run.c's, in run.c's order, so it reproduces run.c's published outputs.
#include "llama2c_model.hpp"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <system_error>

#include "llama2c_sampler.hpp"  // softmax: run.c uses one softmax for attention and sampling

namespace telltale::refmodel {
namespace {

constexpr std::size_t kHeaderBytes = 7 * sizeof(std::int32_t);

// Bounds far above any model this runner is meant for, low enough that no size product below can
// overflow 64 bits, so a corrupt header is reported instead of wrapping around.
constexpr std::int64_t kMaxDim = std::int64_t{1} << 16;
constexpr std::int64_t kMaxHiddenDim = std::int64_t{1} << 18;
constexpr std::int64_t kMaxLayers = std::int64_t{1} << 10;
constexpr std::int64_t kMaxVocab = std::int64_t{1} << 21;
constexpr std::int64_t kMaxSeqLen = std::int64_t{1} << 21;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::int32_t read_le_i32(const unsigned char* b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
                          (static_cast<std::uint32_t>(b[2]) << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  return std::bit_cast<std::int32_t>(u);
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Checks the header the way run.c would need it to hold, and turns the signed vocab_size into
// the shared-classifier flag.
Status parse_header(const std::string& path, const unsigned char* bytes, Llama2cConfig& c) {
  const std::int32_t dim = read_le_i32(bytes);
  const std::int32_t hidden_dim = read_le_i32(bytes + 4);
  const std::int32_t n_layers = read_le_i32(bytes + 8);
  const std::int32_t n_heads = read_le_i32(bytes + 12);
  const std::int32_t n_kv_heads = read_le_i32(bytes + 16);
  const std::int32_t vocab_signed = read_le_i32(bytes + 20);
  const std::int32_t seq_len = read_le_i32(bytes + 24);
  const std::int64_t vocab = vocab_signed < 0 ? -std::int64_t{vocab_signed} : std::int64_t{vocab_signed};

  const std::string where = "model file '" + path + "': ";
  const auto check = [&](const char* name, std::int64_t v, std::int64_t max) -> Status {
    if (v <= 0 || v > max) {
      return invalid_argument(where + "header " + name + " = " + std::to_string(v) + " is outside [1, " +
                              std::to_string(max) + "]; not a llama2.c model?");
    }
    return Status::ok();
  };
  TT_RETURN_IF_ERROR(check("dim", dim, kMaxDim));
  TT_RETURN_IF_ERROR(check("hidden_dim", hidden_dim, kMaxHiddenDim));
  TT_RETURN_IF_ERROR(check("n_layers", n_layers, kMaxLayers));
  TT_RETURN_IF_ERROR(check("n_heads", n_heads, dim));
  TT_RETURN_IF_ERROR(check("n_kv_heads", n_kv_heads, n_heads));
  TT_RETURN_IF_ERROR(check("|vocab_size|", vocab, kMaxVocab));
  TT_RETURN_IF_ERROR(check("seq_len", seq_len, kMaxSeqLen));
  if (dim % n_heads != 0) {
    return invalid_argument(where + "dim " + std::to_string(dim) + " is not a multiple of n_heads " +
                            std::to_string(n_heads));
  }
  if (n_heads % n_kv_heads != 0) {
    return invalid_argument(where + "n_heads " + std::to_string(n_heads) + " is not a multiple of n_kv_heads " +
                            std::to_string(n_kv_heads));
  }
  // RoPE rotates (even, odd) pairs; with an odd head size run.c's loop would rotate across heads and
  // write one float past q and k at the end.
  if ((dim / n_heads) % 2 != 0) {
    return unsupported(where + "head size " + std::to_string(dim / n_heads) + " is odd; RoPE needs it even");
  }
  c.dim = dim;
  c.hidden_dim = hidden_dim;
  c.n_layers = n_layers;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.vocab_size = static_cast<int>(vocab);
  c.seq_len = seq_len;
  c.shared_classifier = vocab_signed > 0;
  return Status::ok();
}

void rmsnorm(float* o, const float* x, const float* weight, int size) {
  float ss = 0.0f;
  for (int j = 0; j < size; j++) ss += x[j] * x[j];
  ss /= static_cast<float>(size);
  ss += 1e-5f;
  ss = 1.0f / std::sqrt(ss);
  for (int j = 0; j < size; j++) o[j] = weight[j] * (ss * x[j]);
}

// W (d, n) @ x (n) -> xout (d), each dot product summed left to right in float as in run.c.
void matmul(float* xout, const float* x, const float* w, int n, int d) {
  for (int i = 0; i < d; i++) {
    const float* row = w + static_cast<std::size_t>(i) * static_cast<std::size_t>(n);
    float val = 0.0f;
    for (int j = 0; j < n; j++) val += row[j] * x[j];
    xout[i] = val;
  }
}

Result<Llama2cModel> fail_no_memory(const std::string& path) {
  return Status(StatusCode::kNoMemory, "model file '" + path + "': out of memory while loading");
}

}  // namespace

Result<Llama2cModel> Llama2cModel::load(const std::string& path) {
  try {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st)) {
      return io_error("cannot open model file '" + path + "': " + (ec ? ec.message() : errno_text(ENOENT)));
    }
    if (!std::filesystem::is_regular_file(st)) return io_error("model file '" + path + "' is not a regular file");

    File file(std::fopen(path.c_str(), "rb"));
    if (!file) return io_error("cannot open model file '" + path + "': " + errno_text(errno));
    const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
    if (ec) return io_error("cannot size model file '" + path + "': " + ec.message());
    if (file_size < kHeaderBytes) {
      return invalid_argument("model file '" + path + "' is " + std::to_string(file_size) +
                              " bytes, shorter than the 28-byte llama2.c header");
    }

    unsigned char header[kHeaderBytes];
    if (std::fread(header, 1, kHeaderBytes, file.get()) != kHeaderBytes) {
      return io_error("cannot read the header of model file '" + path + "'");
    }
    Llama2cModel m;
    TT_RETURN_IF_ERROR(parse_header(path, header, m.config_));
    const Llama2cConfig& c = m.config_;

    // Tensor sizes in run.c's memory_map_weights() order. The header bounds keep every product
    // below 2^50, so none of this can overflow.
    const std::uint64_t dim = static_cast<std::uint64_t>(c.dim);
    const std::uint64_t hidden = static_cast<std::uint64_t>(c.hidden_dim);
    const std::uint64_t layers = static_cast<std::uint64_t>(c.n_layers);
    const std::uint64_t vocab = static_cast<std::uint64_t>(c.vocab_size);
    const std::uint64_t seq_len = static_cast<std::uint64_t>(c.seq_len);
    const std::uint64_t head_size = dim / static_cast<std::uint64_t>(c.n_heads);
    const std::uint64_t q_dim = static_cast<std::uint64_t>(c.n_heads) * head_size;
    const std::uint64_t kv_dim = static_cast<std::uint64_t>(c.n_kv_heads) * head_size;

    Offsets& o = m.offsets_;
    std::uint64_t at = 0;
    const auto take = [&at](std::size_t& offset, std::uint64_t count) {
      offset = static_cast<std::size_t>(at);
      at += count;
    };
    take(o.token_embedding, vocab * dim);
    take(o.rms_att, layers * dim);
    take(o.wq, layers * dim * q_dim);
    take(o.wk, layers * dim * kv_dim);
    take(o.wv, layers * dim * kv_dim);
    take(o.wo, layers * q_dim * dim);
    take(o.rms_ffn, layers * dim);
    take(o.w1, layers * dim * hidden);
    take(o.w2, layers * hidden * dim);
    take(o.w3, layers * dim * hidden);
    take(o.rms_final, dim);
    at += 2 * (seq_len * head_size / 2);  // the legacy freq_cis_real / freq_cis_imag tables: unused
    if (c.shared_classifier) {
      o.wcls = o.token_embedding;
    } else {
      take(o.wcls, vocab * dim);
    }
    const std::uint64_t n_floats = at;
    const std::uint64_t expected_size = kHeaderBytes + n_floats * sizeof(float);
    if (file_size != expected_size) {
      return invalid_argument(
          "model file '" + path + "' is " + std::to_string(file_size) + " bytes but its header (dim " +
          std::to_string(c.dim) + ", " + std::to_string(c.n_layers) + " layers, vocab " + std::to_string(c.vocab_size) +
          (c.shared_classifier ? ", shared" : ", unshared") + " classifier) implies " + std::to_string(expected_size) +
          (file_size < expected_size ? "; truncated?" : "; trailing data or wrong header?"));
    }

    const std::uint64_t state_floats =
        4 * dim + 2 * hidden + static_cast<std::uint64_t>(c.n_heads) * seq_len + vocab + 2 * layers * seq_len * kv_dim;
    if (state_floats * sizeof(float) > kMaxStateBytes) {
      return unsupported("model file '" + path + "': its KV cache and buffers would take " +
                         std::to_string(state_floats * sizeof(float)) + " bytes, over this runner's limit of " +
                         std::to_string(kMaxStateBytes));
    }
    if (n_floats > m.weights_.max_size()) return fail_no_memory(path);

    m.weights_.resize(static_cast<std::size_t>(n_floats));
    const std::size_t got = std::fread(m.weights_.data(), sizeof(float), m.weights_.size(), file.get());
    if (got != m.weights_.size()) {
      return io_error("model file '" + path + "': read " + std::to_string(got) + " of " +
                      std::to_string(m.weights_.size()) + " floats (file changed while reading?)");
    }
    if constexpr (std::endian::native == std::endian::big) {
      for (float& w : m.weights_) {
        std::uint32_t u = std::bit_cast<std::uint32_t>(w);
        u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
        w = std::bit_cast<float>(u);
      }
    }
    for (std::size_t i = 0; i < m.weights_.size(); i++) {
      if (!std::isfinite(m.weights_[i])) {
        return invalid_argument("model file '" + path + "': weight " + std::to_string(i) +
                                " is not finite; the file is corrupt");
      }
    }

    const auto floats = [](std::uint64_t n) { return std::vector<float>(static_cast<std::size_t>(n)); };
    m.x_ = floats(dim);
    m.xb_ = floats(dim);
    m.xb2_ = floats(dim);
    m.hb_ = floats(hidden);
    m.hb2_ = floats(hidden);
    m.q_ = floats(dim);
    m.att_ = floats(static_cast<std::uint64_t>(c.n_heads) * seq_len);
    m.logits_ = floats(vocab);
    m.key_cache_ = floats(layers * seq_len * kv_dim);
    m.value_cache_ = floats(layers * seq_len * kv_dim);
    return m;
  } catch (const std::bad_alloc&) {
    return fail_no_memory(path);
  } catch (const std::exception& e) {
    // std::filesystem or std::string may throw; the API promises a Status, never an exception.
    return Status(StatusCode::kInternal, "model file '" + path + "': " + e.what());
  }
}

std::span<const float> Llama2cModel::forward(int token, int pos) {
  const Llama2cConfig& p = config_;
  if (token < 0 || token >= p.vocab_size || pos < 0 || pos >= p.seq_len || pos > next_pos_) return {};

  const int dim = p.dim;
  const int kv_dim = (p.dim * p.n_kv_heads) / p.n_heads;
  const int kv_mul = p.n_heads / p.n_kv_heads;  // query heads per key/value head (GQA)
  const int hidden_dim = p.hidden_dim;
  const int head_size = dim / p.n_heads;
  const auto sz = [](int v) { return static_cast<std::size_t>(v); };
  const float* w = weights_.data();
  float* x = x_.data();
  float* xb = xb_.data();
  float* q = q_.data();

  std::memcpy(x, w + offsets_.token_embedding + sz(token) * sz(dim), sz(dim) * sizeof(float));

  for (int l = 0; l < p.n_layers; l++) {
    rmsnorm(xb, x, w + offsets_.rms_att + sz(l) * sz(dim), dim);

    // This position's key and value are written straight into the cache.
    const std::size_t loff = sz(l) * sz(p.seq_len) * sz(kv_dim);
    float* k = key_cache_.data() + loff + sz(pos) * sz(kv_dim);
    float* v = value_cache_.data() + loff + sz(pos) * sz(kv_dim);

    matmul(q, xb, w + offsets_.wq + sz(l) * sz(dim) * sz(dim), dim, dim);
    matmul(k, xb, w + offsets_.wk + sz(l) * sz(dim) * sz(kv_dim), dim, kv_dim);
    matmul(v, xb, w + offsets_.wv + sz(l) * sz(dim) * sz(kv_dim), dim, kv_dim);

    // RoPE, with each frequency computed on the fly exactly as run.c does (powf, cosf, sinf in
    // float), rather than from the file's legacy tables, whose values round differently.
    for (int i = 0; i < dim; i += 2) {
      const int head_dim = i % head_size;
      const float freq = 1.0f / std::pow(10000.0f, static_cast<float>(head_dim) / static_cast<float>(head_size));
      const float val = static_cast<float>(pos) * freq;
      const float fcr = std::cos(val);
      const float fci = std::sin(val);
      const int rotn = i < kv_dim ? 2 : 1;  // keys are only kv_dim wide
      for (int r = 0; r < rotn; r++) {
        float* vec = r == 0 ? q : k;
        const float v0 = vec[i];
        const float v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
      }
    }

    for (int h = 0; h < p.n_heads; h++) {
      const float* qh = q + sz(h) * sz(head_size);
      float* att = att_.data() + sz(h) * sz(p.seq_len);
      const std::size_t kv_head = sz(h / kv_mul) * sz(head_size);
      for (int t = 0; t <= pos; t++) {
        const float* kt = key_cache_.data() + loff + sz(t) * sz(kv_dim) + kv_head;
        float score = 0.0f;
        for (int i = 0; i < head_size; i++) score += qh[i] * kt[i];
        score /= std::sqrt(static_cast<float>(head_size));
        att[t] = score;
      }
      softmax(std::span<float>(att, sz(pos) + 1));

      float* xbh = xb + sz(h) * sz(head_size);
      std::memset(xbh, 0, sz(head_size) * sizeof(float));
      for (int t = 0; t <= pos; t++) {
        const float* vt = value_cache_.data() + loff + sz(t) * sz(kv_dim) + kv_head;
        const float a = att[t];
        for (int i = 0; i < head_size; i++) xbh[i] += a * vt[i];
      }
    }

    matmul(xb2_.data(), xb, w + offsets_.wo + sz(l) * sz(dim) * sz(dim), dim, dim);
    for (int i = 0; i < dim; i++) x[i] += xb2_[sz(i)];

    rmsnorm(xb, x, w + offsets_.rms_ffn + sz(l) * sz(dim), dim);

    // SwiGLU: w2(silu(w1(x)) * w3(x)).
    float* hb = hb_.data();
    const float* hb2 = hb2_.data();
    matmul(hb, xb, w + offsets_.w1 + sz(l) * sz(dim) * sz(hidden_dim), dim, hidden_dim);
    matmul(hb2_.data(), xb, w + offsets_.w3 + sz(l) * sz(dim) * sz(hidden_dim), dim, hidden_dim);
    for (int i = 0; i < hidden_dim; i++) {
      float val = hb[i];
      val *= (1.0f / (1.0f + std::exp(-val)));
      val *= hb2[i];
      hb[i] = val;
    }
    matmul(xb, hb, w + offsets_.w2 + sz(l) * sz(dim) * sz(hidden_dim), hidden_dim, dim);
    for (int i = 0; i < dim; i++) x[i] += xb[i];
  }

  rmsnorm(x, x, w + offsets_.rms_final, dim);
  matmul(logits_.data(), x, w + offsets_.wcls, dim, p.vocab_size);
  next_pos_ = pos + 1;  // anything cached after pos belonged to a context we just rewound
  return logits_;
}

}  // namespace telltale::refmodel
