// The proxy model behind antidistillation (telltale/hook.hpp's Adjustment): the reference model, or its perturbed
// copies theta +/- eps g written by tools/antidistill_grad.py, fed the teacher's tokens step by step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama2c_model.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::refmodel {

enum class AntidistillMode {
  kDegrade,      // antidistillation sampling: adjustment = [ln p(theta + eps g) - ln p(theta - eps g)] / (2 eps)
  kFingerprint,  // antidistillation fingerprinting: the proxy's distribution q, aligned with the green set
};

// "degrade" / "fingerprint"; an unknown name is kInvalidArgument.
Result<AntidistillMode> parse_antidistill_mode(const std::string& name);
const char* antidistill_mode_name(AntidistillMode mode);

// The files of a degrade proxy, in the directory the gradient tool writes.
inline constexpr const char* kProxyPlusFile = "plus.bin";    // theta + eps g, llama2.c format
inline constexpr const char* kProxyMinusFile = "minus.bin";  // theta - eps g
inline constexpr const char* kProxyEpsFile = "eps.txt";      // eps as one decimal number

class AntidistillProxy {
 public:
  // degrade: `path` is the gradient tool's directory; fingerprint: a llama2.c model file. Refuses, with one line, a
  // missing or malformed file, an eps that is not a positive finite number, perturbed copies of different shapes,
  // and a proxy whose vocabulary differs from the teacher's (`teacher_vocab` ids).
  static Result<AntidistillProxy> open(AntidistillMode mode, const std::string& path, int teacher_vocab);

  AntidistillMode mode() const { return mode_; }
  double eps() const { return eps_; }  // 0 for fingerprint
  int seq_len() const;

  void reset();
  // Feeds `token` at `pos` (as Llama2cModel::forward) and computes the adjustment values for the next token.
  Status feed(int token, int pos);
  // The current adjustment (one row over the vocabulary) scaled by lambda, for the hook.
  Adjustment adjustment(float lambda) const;

 private:
  AntidistillProxy() = default;
  AntidistillMode mode_ = AntidistillMode::kDegrade;
  double eps_ = 0;
  std::vector<Llama2cModel> models_;  // fingerprint: {proxy}; degrade: {plus, minus}
  std::vector<float> values_;
  std::vector<double> plus_, minus_;  // degrade: the two proxies' log-probabilities
};

}  // namespace telltale::refmodel
