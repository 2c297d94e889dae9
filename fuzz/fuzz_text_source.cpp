// Fuzzes DocumentSource's text splitting (whole file, paragraphs, lines) with tiny document limits: every document
// is valid, non-blank UTF-8 within the limit, and when the input is valid UTF-8 no byte other than whitespace
// (and a leading byte order mark) is lost, duplicated or reordered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "source_invariants.hpp"
#include "telltale/input_file.hpp"

namespace {

std::string without_space(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!(c == ' ' || (c >= '\t' && c <= '\r'))) out += c;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::input;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const InputOptions o = fuzz::options_from(input);
  auto source = DocumentSource::from_memory("fuzz.txt", std::string(input), InputFormat::kText, o);
  FUZZ_CHECK(source.is_ok());
  std::string joined;
  fuzz::drain_checked(*source, o, &joined);
  FUZZ_CHECK(source->bytes_read() == input.size());
  if (!telltale::key_file_kind(input).empty()) {
    FUZZ_CHECK(joined.empty());  // a key file's tag: refused whole, no byte of it handed out
    return 0;
  }
  std::string_view content = input;
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  if (!validate_utf8(content).has_value()) {
    FUZZ_CHECK(without_space(joined) == without_space(content));
    if (o.split == TextSplit::kFile && content.size() <= o.max_document_bytes && !without_space(content).empty()) {
      FUZZ_CHECK(joined == content);  // a file that fits is one document, byte for byte
    }
  }
  return 0;
}
