// Writing and checking evidence bundles: exactly four regular files (five with the PDF), each within its size limit,
// the manifest signed and every listed file matching it (spec/evidence-bundle.md).
#include "evidence/bundle.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "evidence/json_limits.hpp"
#include "evidence/record.hpp"
#include "input/tokenizer.hpp"
#include "telltale/new_file.hpp"

namespace telltale::evidence {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The most bytes a bundle file may hold: a larger one is refused before it is read.
uint64_t max_bytes(const std::string& name) {
  if (name == kManifestFile) return kMaxManifestBytes;
  if (name == kSignatureFile) return 2 * kSignatureBytes + 1;
  return kMaxRecordBytes;
}

// Reads a bundle file that must be a regular file, not a link to one (O_NOFOLLOW: a link could point anywhere), nor
// a FIFO (O_NONBLOCK: opening one must not wait for a writer), within its size limit.
Result<std::string> read_bundle_file(const fs::path& path, uint64_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return invalid_argument(path.string() + ": a symbolic link, not a regular file");
    return io_error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  std::string bytes;
  Status status = Status::ok();
  if (::fstat(fd, &st) != 0) {
    status = io_error(path.string() + ": cannot stat: " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = invalid_argument(path.string() + ": not a regular file");
  } else if (static_cast<uint64_t>(st.st_size) > limit) {
    status = invalid_argument(path.string() + ": " + std::to_string(st.st_size) +
                              " bytes, more than a bundle file of this kind may hold (" + std::to_string(limit) + ")");
  } else {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) status = io_error(path.string() + ": cannot read: " + std::strerror(errno));
      if (got <= 0) break;
      done += static_cast<size_t>(got);
    }
    char extra = 0;
    if (status.is_ok() && (done != bytes.size() || ::read(fd, &extra, 1) != 0)) {
      status = io_error(path.string() + ": cannot read (the file changed while it was read)");
    }
  }
  ::close(fd);
  if (!status.is_ok()) return status;
  return bytes;
}

std::string signature_text(const Signature& s) { return to_hex(s) + "\n"; }

}  // namespace

Status write_bundle(const std::string& dir, const std::string& record_json, const std::string& report_html,
                    const SigningKey& key, const std::string& report_pdf) {
  if (record_json.size() > kMaxRecordBytes || report_html.size() > kMaxRecordBytes ||
      report_pdf.size() > kMaxRecordBytes) {
    return invalid_argument(dir + ": the record or report exceeds the " + std::to_string(kMaxRecordBytes >> 20) +
                            " MiB a bundle file may hold (too many documents for one bundle: split the corpus)");
  }
  // Filled under a temporary name and renamed into place when complete: a failed write leaves no partial bundle.
  auto d = NewDirectory::create(dir);
  if (!d) return d.status();
  TT_RETURN_IF_ERROR(d->write_file(kRecordFile, record_json, FileAccess::kShared));
  TT_RETURN_IF_ERROR(d->write_file(kReportFile, report_html, FileAccess::kShared));
  if (!report_pdf.empty()) TT_RETURN_IF_ERROR(d->write_file(kPdfFile, report_pdf, FileAccess::kShared));
  json files = json::array();
  for (const auto& [name, bytes] : {std::pair<const char*, const std::string*>{kRecordFile, &record_json},
                                    std::pair<const char*, const std::string*>{kReportFile, &report_html},
                                    std::pair<const char*, const std::string*>{kPdfFile, &report_pdf}}) {
    if (bytes == &report_pdf && report_pdf.empty()) continue;
    files.push_back({{"name", name}, {"sha256", input::sha256_hex(*bytes)}, {"bytes", bytes->size()}});
  }
  const json manifest = {{"format", kManifestFormat},
                         {"signer",
                          {{"algorithm", "ed25519"},
                           {"public_key", to_hex(key.public_key())},
                           {"public_key_id", public_key_id(key.public_key())}}},
                         {"files", std::move(files)}};
  const std::string manifest_text = manifest.dump(2) + "\n";
  TT_RETURN_IF_ERROR(d->write_file(kManifestFile, manifest_text, FileAccess::kShared));
  const std::string signature = signature_text(key.sign(as_bytes(manifest_text)));
  TT_RETURN_IF_ERROR(d->write_file(kSignatureFile, signature, FileAccess::kShared));
  return d->commit();
}

Result<BundleFiles> read_bundle_files(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) return invalid_argument(dir + ": not a bundle directory");
  const std::set<std::string> expected = {kRecordFile, kReportFile, kManifestFile, kSignatureFile};
  BundleFiles files;
  for (auto it = fs::directory_iterator(d, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (expected.count(name) == 0 && name != kPdfFile)
      return invalid_argument(dir + "/" + name + ": not part of a bundle (a file was added)");
    auto bytes = read_bundle_file(it->path(), max_bytes(name));
    if (!bytes) return bytes.status();
    files.emplace(name, std::move(bytes).value());
  }
  if (ec) return io_error(dir + ": cannot list directory: " + ec.message());
  for (const std::string& name : expected) {
    if (files.count(name) == 0) return invalid_argument(dir + "/" + name + ": missing from the bundle");
  }
  return files;
}

Result<json> verify_bundle_files(const std::string& dir, const BundleFiles& files, const SigningPublicKey& key) {
  auto file = [&files](const char* name) -> const std::string& {
    static const std::string kEmpty;
    const auto it = files.find(name);
    return it == files.end() ? kEmpty : it->second;
  };
  const std::string& signature_bytes = file(kSignatureFile);
  Signature signature{};
  if (signature_bytes.size() != 2 * kSignatureBytes + 1 || signature_bytes.back() != '\n' ||
      !from_hex(std::string_view(signature_bytes).substr(0, 2 * kSignatureBytes), signature)) {
    return invalid_argument(dir + "/" + kSignatureFile +
                            ": not an Ed25519 signature (128 lowercase hex digits and a newline)");
  }
  const std::string& manifest_text = file(kManifestFile);
  if (!verify_signature(key, as_bytes(manifest_text), signature)) {
    return invalid_argument(dir + "/" + kManifestFile + " or " + dir + "/" + kSignatureFile +
                            ": the signature does not verify under signing key " + public_key_id(key) +
                            " (one of them was altered, or another key signed the bundle)");
  }

  // From here on every byte read is either signed or checked against a signed digest.
  if (manifest_text.size() > kMaxManifestBytes) return invalid_argument(dir + "/" + kManifestFile + ": too large");
  TT_RETURN_IF_ERROR(check_json_depth(manifest_text, dir + "/" + kManifestFile));
  const json manifest = json::parse(manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || manifest.value("format", "") != kManifestFormat ||
      !manifest.contains("files") || !manifest["files"].is_array() || !manifest.contains("signer") ||
      !manifest["signer"].is_object()) {
    return invalid_argument(dir + "/" + kManifestFile + ": not a telltale evidence manifest");
  }
  if (manifest["signer"].value("public_key", "") != to_hex(key)) {
    return invalid_argument(dir + "/" + kManifestFile + ": names a signer other than the given key");
  }
  std::set<std::string> listed;
  for (const json& f : manifest["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("sha256") ||
        !f["sha256"].is_string() || !f.contains("bytes") || !f["bytes"].is_number_unsigned()) {
      return invalid_argument(dir + "/" + kManifestFile + ": a file entry lacks name, sha256 or bytes");
    }
    const std::string name = f["name"].get<std::string>();
    if (name != kRecordFile && name != kReportFile && name != kPdfFile) {
      return invalid_argument(dir + "/" + kManifestFile + ": lists an unexpected file '" + name + "'");
    }
    if (!listed.insert(name).second) {
      return invalid_argument(dir + "/" + kManifestFile + ": lists '" + name + "' more than once");
    }
    if (files.count(name) == 0) return invalid_argument(dir + "/" + name + ": missing from the bundle");
    const std::string& bytes = file(name.c_str());
    if (bytes.size() != f["bytes"].get<uint64_t>()) {
      return invalid_argument(dir + "/" + name + ": " + std::to_string(bytes.size()) +
                              " bytes, the signed manifest says " + std::to_string(f["bytes"].get<uint64_t>()) +
                              " (the file was altered)");
    }
    const std::string digest = input::sha256_hex(bytes);
    if (digest != f["sha256"].get<std::string>()) {
      return invalid_argument(dir + "/" + name + ": SHA-256 " + digest + " differs from the signed manifest's " +
                              f["sha256"].get<std::string>() + " (the file was altered)");
    }
  }
  if (listed.count(kRecordFile) == 0 || listed.count(kReportFile) == 0)
    return invalid_argument(dir + "/" + kManifestFile + ": must list record.json and report.html");
  if (files.count(kPdfFile) != 0 && listed.count(kPdfFile) == 0) {
    return invalid_argument(dir + "/" + kPdfFile + ": not listed in the signed manifest (a file was added)");
  }

  auto record = parse_record(file(kRecordFile));
  if (!record) return invalid_argument(dir + "/" + record.status().message());
  if ((*record)["signer"]["public_key"] != to_hex(key)) {
    return invalid_argument(dir + "/" + kRecordFile + ": names a signer other than the given key");
  }
  return record;
}

Result<json> verify_bundle(const std::string& dir, const SigningPublicKey& key) {
  auto files = read_bundle_files(dir);
  if (!files) return files.status();
  return verify_bundle_files(dir, *files, key);
}

}  // namespace telltale::evidence
