// Files the antidistillation tests build: a degrade proxy directory from the reference model (one copy perturbed by
// scaling one tensor, so the two differ) and a tiny valid llama2.c model of another vocabulary.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_paths.hpp"

namespace telltale::test {

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// dir/plus.bin = the reference model, dir/minus.bin = the same with its final RMSNorm weights times `scale`,
// dir/eps.txt = eps. The final norm is the last tensor before the freq_cis tables: dim floats.
inline void write_degrade_proxy(const std::filesystem::path& dir, float scale, const std::string& eps) {
  std::filesystem::create_directories(dir);
  const std::vector<char> model = read_bytes(model_file("stories260K.bin"));
  int32_t header[7];
  std::memcpy(header, model.data(), sizeof header);
  const int64_t dim = header[0], seq_len = header[6], head = header[0] / header[3];
  const int64_t freq_floats = 2 * (seq_len * head / 2);
  std::vector<char> minus = model;
  const size_t rms_final = minus.size() - static_cast<size_t>((freq_floats + dim) * 4);
  for (int64_t i = 0; i < dim; ++i) {
    float w;
    std::memcpy(&w, minus.data() + rms_final + i * 4, 4);
    w *= scale;
    std::memcpy(minus.data() + rms_final + i * 4, &w, 4);
  }
  write_bytes(dir / "plus.bin", model);
  write_bytes(dir / "minus.bin", minus);
  std::ofstream(dir / "eps.txt") << eps << "\n";
}

// A valid llama2.c model (dim 8, 1 layer, 2 heads) with `vocab` ids, weights 0.01 apart.
inline void write_tiny_model(const std::filesystem::path& path, int32_t vocab) {
  const int32_t dim = 8, hidden = 16, layers = 1, heads = 2, kv_heads = 2, seq_len = 32;
  const int32_t header[7] = {dim, hidden, layers, heads, kv_heads, vocab, seq_len};
  const int64_t head = dim / heads;
  const int64_t floats = int64_t{vocab} * dim + layers * dim + 4 * int64_t{layers} * dim * dim + layers * dim +
                         3 * int64_t{layers} * dim * hidden + dim + 2 * (seq_len * head / 2);
  std::vector<float> w(static_cast<size_t>(floats));
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  out.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * sizeof(float)));
}

}  // namespace telltale::test
