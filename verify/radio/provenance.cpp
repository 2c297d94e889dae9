// Provenance lines, written and hashed as they come (SHA-256 through OpenSSL's streaming digest).
#include "radio/provenance.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace telltale::radio {

struct ProvenanceWriter::Hash {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Hash() { EVP_MD_CTX_free(ctx); }
};

std::string provenance_line(const ScoredTuple& t, const std::string& doc) {
  char ctx[17];
  std::snprintf(ctx, sizeof ctx, "%016llx", static_cast<unsigned long long>(t.context));
  const nlohmann::json j = {{"record", t.record}, {"doc", doc},     {"position", t.position}, {"rank", t.rank},
                            {"token", t.token},   {"context", ctx}, {"score", t.score}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ProvenanceWriter::ProvenanceWriter(ProvenanceWriter&&) noexcept = default;
ProvenanceWriter& ProvenanceWriter::operator=(ProvenanceWriter&&) noexcept = default;
ProvenanceWriter::~ProvenanceWriter() = default;

Result<ProvenanceWriter> ProvenanceWriter::create(const std::string& path) {
  ProvenanceWriter w;
  w.hash_ = std::make_unique<Hash>();
  if (w.hash_->ctx == nullptr || EVP_DigestInit_ex(w.hash_->ctx, EVP_sha256(), nullptr) != 1)
    return Status(StatusCode::kInternal, "SHA-256 is unavailable");
  if (path.empty()) return w;
  auto file = NewFile::create(path, FileAccess::kShared);
  if (!file) return file.status();
  w.file_.emplace(std::move(file).value());
  return w;
}

void ProvenanceWriter::add(const ScoredTuple& tuple, const std::string& doc) {
  std::string line = provenance_line(tuple, doc);
  line += '\n';
  EVP_DigestUpdate(hash_->ctx, line.data(), line.size());
  if (file_) file_->write(line);
  ++lines_;
}

SuspectTupleCallback ProvenanceWriter::callback() {
  return [this](const ScoredTuple& t, const std::string& doc) { add(t, doc); };
}

Result<std::string> ProvenanceWriter::finish() {
  if (file_) TT_RETURN_IF_ERROR(file_->flush());
  std::array<unsigned char, EVP_MAX_MD_SIZE> sum{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(hash_->ctx, sum.data(), &len) != 1) return Status(StatusCode::kInternal, "SHA-256 failed");
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", sum[i]);
    hex += byte;
  }
  return hex;
}

Status ProvenanceWriter::commit() { return file_ ? file_->commit() : Status::ok(); }

}  // namespace telltale::radio
