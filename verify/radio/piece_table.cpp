// Piece table: one pass over the vocabulary when loaded (SentencePiece's pieces, or llama.cpp's for a GGUF
// vocabulary); lookups are a vector index and a hash map.
#include "radio/piece_table.hpp"

#include <sentencepiece_processor.h>

#include <fstream>
#include <sstream>

#include "input/gguf_tokenizer.hpp"
#include "input/tokenizer.hpp"
#include "telltale/input_file.hpp"

namespace telltale::radio {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581, SentencePiece's leading-space mark

std::string text_bytes(std::string_view piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    if (piece.substr(i, kSpaceMark.size()) == kSpaceMark) {
      out += ' ';
      i += kSpaceMark.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

// "<0xNN>" -> the byte NN.
std::optional<char> byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
  unsigned v = 0;
  for (char c : piece.substr(3, 2)) {
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<unsigned>(d);
  }
  return static_cast<char>(v);
}

}  // namespace

void PieceTable::add(std::string bytes, Kind kind) {
  bytes_.push_back(std::move(bytes));
  kinds_.push_back(kind);
}

void PieceTable::index() {
  for (Kind pass : {Kind::kText, Kind::kByte})
    for (size_t id = 0; id < bytes_.size(); ++id)
      if (kinds_[id] == pass && !bytes_[id].empty()) ids_.emplace(bytes_[id], static_cast<int32_t>(id));
}

PieceTable PieceTable::from_pieces(std::span<const std::string> pieces) {
  PieceTable t;
  for (const std::string& p : pieces) {
    if (const auto b = byte_piece(p)) {
      t.add(std::string(1, *b), Kind::kByte);
    } else if (p.size() >= 2 && p.front() == '<' && p.back() == '>') {
      t.add("", Kind::kNone);
    } else {
      t.add(text_bytes(p), Kind::kText);
    }
  }
  t.index();
  return t;
}

// A llama.cpp GGUF vocabulary's pieces, read from the open file `fd`: the hash is of that file (reopened through
// /proc/self/fd, so a file renamed over `path` meanwhile is not the one hashed) and the pieces are llama.cpp's own,
// loaded with the checks the tokenizer's load makes.
Result<PieceTable> PieceTable::load_gguf(int fd, const std::string& path) {
  auto sha = input::sha256_file_hex("/proc/self/fd/" + std::to_string(fd));
  if (!sha) return io_error(path + ": cannot read tokenizer model: " + sha.status().message());
  auto pieces = input::load_gguf_pieces(fd, path);
  if (!pieces) return pieces.status();
  PieceTable t;
  t.sha256_hex_ = std::move(*sha);
  for (input::GgufPiece& p : *pieces) {
    const Kind kind = p.bytes.empty() ? Kind::kNone : p.byte_token ? Kind::kByte : Kind::kText;
    t.add(std::move(p.bytes), kind);
  }
  t.index();
  return t;
}

Result<PieceTable> PieceTable::load(const std::string& path) {
  // A GGUF vocabulary (by its magic, as input::Tokenizer::load tells them apart) is loaded once, for its pieces.
  auto fd = open_input_file(path, "tokenizer model");
  if (!fd) return fd.status();
  const auto kind = input::tokenizer_file_kind(fd->get(), path);
  if (!kind) return kind.status();
  if (*kind == input::TokenizerKind::kGguf) return load_gguf(fd->get(), path);
  // SentencePiece: loaded through the tokenizer's own checks (size, key-file refusal), then read again for its
  // pieces; the hash is the one of the bytes actually parsed here.
  auto tok = input::Tokenizer::load(path);
  if (!tok) return tok.status();
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string model = buffer.str();
  sentencepiece::SentencePieceProcessor sp;
  if (!in || !sp.LoadFromSerializedProto(model).ok())
    return invalid_argument(path + ": not a SentencePiece model (its pieces could not be read)");
  PieceTable t;
  t.sha256_hex_ = input::sha256_hex(model);
  if (t.sha256_hex_ != tok->sha256_hex()) return io_error(path + ": the file changed while it was read");
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    const std::string piece = sp.IdToPiece(id);
    if (sp.IsByte(id)) {
      const auto b = byte_piece(piece);
      if (b)
        t.add(std::string(1, *b), Kind::kByte);
      else
        t.add("", Kind::kNone);
    } else if (sp.IsControl(id) || sp.IsUnknown(id) || sp.IsUnused(id)) {
      t.add("", Kind::kNone);
    } else {
      t.add(text_bytes(piece), Kind::kText);
    }
  }
  t.index();
  return t;
}

std::optional<std::string_view> PieceTable::bytes(int32_t id) const {
  if (id < 0 || id >= size() || kinds_[static_cast<size_t>(id)] == Kind::kNone) return std::nullopt;
  return std::string_view(bytes_[static_cast<size_t>(id)]);
}

std::optional<int32_t> PieceTable::id_of(std::string_view bytes) const {
  const auto it = ids_.find(std::string(bytes));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

}  // namespace telltale::radio
