// The bytes each id of a vocabulary stands for (SentencePiece: a byte-fallback piece <0xNN> is that byte, the
// leading-space mark U+2581 is a space, control and unknown pieces stand for none; a llama.cpp GGUF vocabulary: the
// bytes llama.cpp streams for the id, input/gguf_tokenizer.hpp), and the id of a byte string: what lines up two
// tokenizations of the same text (spec/radioactivity.md, section 6).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::radio {

class PieceTable {
 public:
  // Reads a SentencePiece model or a llama.cpp GGUF vocabulary (by file type, as input::Tokenizer::load). Errors
  // name the file.
  static Result<PieceTable> load(const std::string& path);
  // A vocabulary given as piece strings, id = index: "<0xNN>" is a byte piece, any other "<...>" a control piece,
  // everything else text with U+2581 read as a space. For tests and hand-made vocabularies.
  static PieceTable from_pieces(std::span<const std::string> pieces);

  int32_t size() const { return static_cast<int32_t>(bytes_.size()); }
  // The bytes `id` stands for; nullopt for a control or unknown piece and an id outside [0, size()).
  std::optional<std::string_view> bytes(int32_t id) const;
  // The one id that stands for exactly `bytes`: a text piece before a byte piece with the same byte, the lower id
  // among equal text pieces; nullopt when no single id does.
  std::optional<int32_t> id_of(std::string_view bytes) const;
  const std::string& sha256_hex() const { return sha256_hex_; }  // of the model file; "" from from_pieces

 private:
  enum class Kind : uint8_t { kText, kByte, kNone };
  static Result<PieceTable> load_gguf(int fd, const std::string& path);
  void add(std::string bytes, Kind kind);
  void index();
  std::vector<std::string> bytes_;
  std::vector<Kind> kinds_;
  std::unordered_map<std::string, int32_t> ids_;
  std::string sha256_hex_;
};

}  // namespace telltale::radio
