// A minimal protobuf wire-format walk (varints and length-delimited fields) over a SentencePiece ModelProto.
#include "input/sentencepiece_spec.hpp"

namespace telltale::input {
namespace {

class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : rest_(bytes) {}
  bool done() const { return rest_.empty(); }

  std::optional<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && !rest_.empty(); shift += 7) {
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      v |= uint64_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80u) == 0) return v;
    }
    return std::nullopt;
  }

  // The next field: its number, wire type, and (wire type 0) value or (wire type 2) bytes. False at a malformed field.
  bool field(uint32_t& number, uint32_t& type, uint64_t& value, std::string_view& bytes) {
    const auto tag = varint();
    if (!tag) return false;
    number = static_cast<uint32_t>(*tag >> 3);
    type = static_cast<uint32_t>(*tag & 7);
    switch (type) {
      case 0: {
        const auto v = varint();
        if (!v) return false;
        value = *v;
        return true;
      }
      case 1: return skip(8);
      case 5: return skip(4);
      case 2: {
        const auto n = varint();
        if (!n || *n > rest_.size()) return false;
        bytes = rest_.substr(0, static_cast<size_t>(*n));
        rest_.remove_prefix(static_cast<size_t>(*n));
        return true;
      }
      default: return false;
    }
  }

 private:
  bool skip(size_t n) {
    if (n > rest_.size()) return false;
    rest_.remove_prefix(n);
    return true;
  }
  std::string_view rest_;
};

// Calls on_field(number, type, value, bytes) for each field of `message`; false when it is malformed.
template <typename Fn>
bool for_each_field(std::string_view message, Fn&& on_field) {
  WireReader r(message);
  while (!r.done()) {
    uint32_t number = 0, type = 0;
    uint64_t value = 0;
    std::string_view bytes;
    if (!r.field(number, type, value, bytes)) return false;
    on_field(number, type, value, bytes);
  }
  return true;
}

}  // namespace

std::optional<SentencePieceSpec> read_sentencepiece_spec(std::string_view model_proto) {
  SentencePieceSpec spec;
  bool ok = true;
  const bool top = for_each_field(model_proto, [&](uint32_t number, uint32_t type, uint64_t, std::string_view bytes) {
    if (type != 2) return;
    if (number == 2) {
      ok &= for_each_field(bytes, [&](uint32_t n, uint32_t t, uint64_t v, std::string_view) {
        if (t != 0) return;
        if (n == 3) spec.model_type = static_cast<int>(v);
        if (n == 24) spec.treat_whitespace_as_suffix = v != 0;
      });
    } else if (number == 3) {
      ok &= for_each_field(bytes, [&](uint32_t n, uint32_t t, uint64_t v, std::string_view b) {
        if (n == 1 && t == 2) spec.normalizer_name = std::string(b);
        if (n == 3 && t == 0) spec.add_dummy_prefix = v != 0;
        if (n == 5 && t == 0) spec.escape_whitespaces = v != 0;
        if (n == 6 && t == 2 && !b.empty()) spec.custom_rules = true;
      });
    }
  });
  if (!top || !ok) return std::nullopt;
  return spec;
}

}  // namespace telltale::input
