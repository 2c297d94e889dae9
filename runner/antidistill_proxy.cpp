// The antidistillation proxy: loads the proxy's weights, checks them against the teacher, and turns each step's
// proxy logits into the hook's adjustment values.
#include "antidistill_proxy.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>

namespace telltale::refmodel {
namespace {

// ln softmax(z)_v for every v, in double. `out` keeps its size after the first step: no allocation per token.
void log_softmax(std::span<const float> z, std::vector<double>& out) {
  const double max = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (float x : z) sum += std::exp(x - max);
  const double log_z = max + std::log(sum);
  out.resize(z.size());
  for (size_t i = 0; i < z.size(); ++i) out[i] = z[i] - log_z;
}

Result<double> read_eps(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status{StatusCode::kIo, path + ": cannot read the proxy's eps"};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  char* end = nullptr;
  errno = 0;
  const double eps = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(eps) || !(eps > 0)) {
    return invalid_argument(path + ": the proxy's eps must be one positive finite number");
  }
  return eps;
}

Result<Llama2cModel> load_proxy(const std::string& path, int teacher_vocab) {
  auto m = Llama2cModel::load(path);
  if (!m) return m.status();
  if (m->vocab_size() != teacher_vocab) {
    return invalid_argument(path + ": the proxy has " + std::to_string(m->vocab_size()) + " ids but the teacher " +
                            std::to_string(teacher_vocab) + " (a proxy must share the teacher's tokenizer)");
  }
  return m;
}

}  // namespace

Result<AntidistillMode> parse_antidistill_mode(const std::string& name) {
  if (name == "degrade") return AntidistillMode::kDegrade;
  if (name == "fingerprint") return AntidistillMode::kFingerprint;
  return invalid_argument("--antidistill must be degrade or fingerprint, not '" + name + "'");
}

const char* antidistill_mode_name(AntidistillMode mode) {
  return mode == AntidistillMode::kDegrade ? "degrade" : "fingerprint";
}

Result<AntidistillProxy> AntidistillProxy::open(AntidistillMode mode, const std::string& path, int teacher_vocab) {
  AntidistillProxy p;
  p.mode_ = mode;
  std::error_code ec;
  const bool dir = std::filesystem::is_directory(path, ec);
  if (mode == AntidistillMode::kFingerprint) {
    if (dir) return invalid_argument(path + ": a fingerprint proxy is a llama2.c model file, not a directory");
    auto m = load_proxy(path, teacher_vocab);
    if (!m) return m.status();
    p.models_.push_back(std::move(m).value());
  } else {
    if (!dir) {
      return invalid_argument(path + ": a degrade proxy is the directory tools/antidistill_grad.py writes");
    }
    const std::filesystem::path root(path);
    auto eps = read_eps((root / kProxyEpsFile).string());
    if (!eps) return eps.status();
    p.eps_ = *eps;
    for (const char* name : {kProxyPlusFile, kProxyMinusFile}) {
      auto m = load_proxy((root / name).string(), teacher_vocab);
      if (!m) return m.status();
      p.models_.push_back(std::move(m).value());
    }
    const Llama2cConfig& a = p.models_[0].config();
    const Llama2cConfig& b = p.models_[1].config();
    if (a.dim != b.dim || a.hidden_dim != b.hidden_dim || a.n_layers != b.n_layers || a.n_heads != b.n_heads ||
        a.n_kv_heads != b.n_kv_heads || a.seq_len != b.seq_len) {
      return invalid_argument(path + ": the two perturbed proxies have different shapes");
    }
  }
  p.values_.assign(static_cast<size_t>(teacher_vocab), 0.0f);
  return p;
}

int AntidistillProxy::seq_len() const { return models_.front().seq_len(); }

void AntidistillProxy::reset() {
  for (Llama2cModel& m : models_) m.reset();
}

Status AntidistillProxy::feed(int token, int pos) {
  if (mode_ == AntidistillMode::kFingerprint) {
    const std::span<const float> z = models_[0].forward(token, pos);
    if (z.empty()) return invalid_argument("the proxy cannot take position " + std::to_string(pos));
    const float max = *std::max_element(z.begin(), z.end());
    double sum = 0;
    for (size_t i = 0; i < z.size(); ++i) sum += values_[i] = std::exp(z[i] - max);
    for (float& q : values_) q = static_cast<float>(q / sum);
    return Status::ok();
  }
  for (auto [model, out] : {std::pair{&models_[0], &plus_}, std::pair{&models_[1], &minus_}}) {
    const std::span<const float> z = model->forward(token, pos);
    if (z.empty()) return invalid_argument("the proxy cannot take position " + std::to_string(pos));
    log_softmax(z, *out);
  }
  for (size_t i = 0; i < values_.size(); ++i) values_[i] = static_cast<float>((plus_[i] - minus_[i]) / (2 * eps_));
  return Status::ok();
}

Adjustment AntidistillProxy::adjustment(float lambda) const {
  const auto n = static_cast<int64_t>(values_.size());
  return Adjustment{values_.data(),
                    1,
                    n,
                    n,
                    lambda,
                    mode_ == AntidistillMode::kDegrade ? AdjustmentKind::kAdd : AdjustmentKind::kGreenAligned};
}

}  // namespace telltale::refmodel
