// An evidence bundle: a directory holding record.json (the machine-readable record), report.html (the human report),
// optionally report.pdf (that report printed), manifest.json (the SHA-256 and size of each, and the signer's public
// key) and manifest.sig (the Ed25519 signature of manifest.json's exact bytes). Changing any byte of any of them, or
// adding or removing a file, makes verification fail with a message naming the file (spec/evidence-bundle.md).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/signing_key.hpp"
#include "telltale/status.hpp"

namespace telltale::evidence {

inline constexpr const char* kRecordFile = "record.json";
inline constexpr const char* kReportFile = "report.html";
inline constexpr const char* kPdfFile = "report.pdf";
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kSignatureFile = "manifest.sig";
inline constexpr const char* kManifestFormat = "telltale-evidence-manifest-1";

// Creates `dir` (which must not exist), writes the record, the report and, when `report_pdf` is not empty, the PDF,
// then the manifest and its signature; the directory appears only when complete (a NewDirectory).
Status write_bundle(const std::string& dir, const std::string& record_json, const std::string& report_html,
                    const SigningKey& key, const std::string& report_pdf = "");

// A bundle's files by name, with their bytes.
using BundleFiles = std::map<std::string, std::string>;

// Reads the bundle directory: it must hold exactly the four files, or those and report.pdf, all regular (an added or a
// missing one is named).
Result<BundleFiles> read_bundle_files(const std::string& dir);

// Checks, in this order: the signature file's form; the signature of manifest.json under `key`; the manifest's form
// and its signer (= `key`); each listed file's size and SHA-256; the record's structure (parse_record) and its signer
// (= `key`). Returns the record. Messages name the file as `dir`/name.
Result<nlohmann::json> verify_bundle_files(const std::string& dir, const BundleFiles& files,
                                           const SigningPublicKey& key);

// read_bundle_files, then verify_bundle_files.
Result<nlohmann::json> verify_bundle(const std::string& dir, const SigningPublicKey& key);

}  // namespace telltale::evidence
