// The verifier's inputs: UTF-8 validation, field selectors, DocumentSource over text, directories, JSONL, stdin
// and .ids files (every malformed case names its file and line), skip_bad, bounded memory, and the tokenizer.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "input/document_source.hpp"
#include "input/field_selector.hpp"
#include "input/tokenizer.hpp"
#include "input/utf8.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace fs = std::filesystem;
using telltale::StatusCode;
using telltale::input::Document;
using telltale::input::DocumentSource;
using telltale::input::FieldSelector;
using telltale::input::InputFormat;
using telltale::input::InputOptions;
using telltale::input::TextSplit;
using telltale::input::Tokenizer;

namespace {

using TempDir = telltale::test::ScratchDir;

struct Drained {
  std::vector<Document> docs;
  telltale::Status error;  // ok when the stream ended normally
};

Drained drain(DocumentSource& source) {
  Drained d;
  while (true) {
    Document doc;
    auto more = source.next(doc);
    if (!more) {
      d.error = more.status();
      break;
    }
    if (!*more) break;
    d.docs.push_back(std::move(doc));
  }
  return d;
}

// Each drained document's text and first line, for a stream that ended without an error.
std::vector<std::pair<std::string, uint64_t>> texts_and_lines(const Drained& d) {
  REQUIRE(d.error.is_ok());
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const Document& doc : d.docs) out.emplace_back(doc.text, doc.line);
  return out;
}

DocumentSource open_or_fail(std::vector<std::string> paths, InputOptions options = {}) {
  auto source = DocumentSource::open(std::move(paths), std::move(options));
  INFO(source.status().message());
  REQUIRE(source);
  return std::move(source).value();
}

DocumentSource memory_or_fail(const std::string& name, std::string bytes, InputOptions options = {},
                              InputFormat format = InputFormat::kAuto) {
  auto source = DocumentSource::from_memory(name, std::move(bytes), format, std::move(options));
  INFO(source.status().message());
  REQUIRE(source);
  return std::move(source).value();
}

// The one error a source ends with; the test fails if it ends without one.
std::string error_of(DocumentSource& source) {
  Drained d = drain(source);
  REQUIRE_FALSE(d.error.is_ok());
  return d.error.message();
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

std::string shared(const std::string& rel) { return std::string(telltale::test::kSharedDir) + "/" + rel; }
using telltale::test::model_file;

}  // namespace

// ---- UTF-8 ----------------------------------------------------------------------------------------------------

TEST_CASE("well-formed UTF-8 of every sequence length is accepted", "[input]") {
  using telltale::input::validate_utf8;
  CHECK_FALSE(validate_utf8("").has_value());
  CHECK_FALSE(validate_utf8("plain ASCII text that is longer than eight bytes").has_value());
  CHECK_FALSE(validate_utf8("\xC2\x80 \xDF\xBF caf\xC3\xA9").has_value());                        // U+0080, U+07FF, é
  CHECK_FALSE(validate_utf8("\xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF").has_value());  // U+0800..U+FFFF
  CHECK_FALSE(validate_utf8("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF").has_value());                    // U+10000, U+10FFFF
}

TEST_CASE("ill-formed UTF-8 is rejected at the offset of the first bad sequence", "[input]") {
  using telltale::input::validate_utf8;
  struct Case {
    std::string bytes;
    size_t offset;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"ab\xC0\x80", 2, "overlong two-byte NUL"},
      {"\xC1\xBF", 0, "overlong two-byte form"},
      {"x\xE0\x80\x80", 1, "overlong three-byte form"},
      {"\xE0\x9F\xBF", 0, "overlong three-byte form (U+07FF)"},
      {"\xF0\x80\x80\x80", 0, "overlong four-byte form"},
      {"\xF0\x8F\xBF\xBF", 0, "overlong four-byte form (U+FFFF)"},
      {"ok \xED\xA0\x80", 3, "UTF-16 high surrogate U+D800"},
      {"\xED\xBF\xBF", 0, "UTF-16 low surrogate U+DFFF"},
      {"\xF4\x90\x80\x80", 0, "U+110000, past the last code point"},
      {"\xF5\x80\x80\x80", 0, "lead byte F5"},
      {"\xFF", 0, "byte FF"},
      {"abc\x80", 3, "lone continuation byte"},
      {"\xC3", 0, "truncated at the end"},
      {"\xE2\x82", 0, "truncated three-byte sequence"},
      {"\xE2\x82x", 0, "continuation missing in the middle"},
      {"0123456789abcdef\xFE", 16, "bad byte after the eight-byte ASCII fast path"},
  };
  for (const Case& c : cases) {
    INFO(c.why);
    const auto at = validate_utf8(c.bytes);
    REQUIRE(at.has_value());
    CHECK(*at == c.offset);
  }
}

TEST_CASE("an incomplete UTF-8 tail is measured so a cut never splits a character", "[input]") {
  using telltale::input::utf8_incomplete_tail;
  CHECK(utf8_incomplete_tail("abc") == 0);
  CHECK(utf8_incomplete_tail("ab\xC3") == 1);
  CHECK(utf8_incomplete_tail("ab\xC3\xA9") == 0);
  CHECK(utf8_incomplete_tail("\xE2\x82") == 2);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x98") == 3);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x98\x80") == 0);
}

TEST_CASE("bytes shown in error messages are escaped onto one line", "[input]") {
  using telltale::input::printable;
  CHECK(printable("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(printable("a\nb\x01\\") == "a\\x0ab\\x01\\x5c");
  CHECK(printable("\xFF\xC3") == "\\xff\\xc3");
  CHECK(printable(std::string(100, 'x'), 10) == "xxxxxxxxxx...");
}

// ---- Field selectors --------------------------------------------------------------------------------------------

TEST_CASE("field selectors parse keys, indexes, negative indexes and quoted keys", "[input]") {
  using Step = FieldSelector::Step;
  auto a = FieldSelector::parse("response");
  REQUIRE(a);
  CHECK(a->steps() == std::vector<Step>{std::string("response")});
  auto b = FieldSelector::parse("messages[-1].content");
  REQUIRE(b);
  CHECK(b->steps() == std::vector<Step>{std::string("messages"), int64_t{-1}, std::string("content")});
  auto c = FieldSelector::parse("choices[0].message.content");
  REQUIRE(c);
  CHECK(c->steps() ==
        std::vector<Step>{std::string("choices"), int64_t{0}, std::string("message"), std::string("content")});
  auto d = FieldSelector::parse("a.b[2][-3]");
  REQUIRE(d);
  CHECK(d->steps() == std::vector<Step>{std::string("a"), std::string("b"), int64_t{2}, int64_t{-3}});
  auto e = FieldSelector::parse("[0][\"key.with dots\"][\"q\\\"\"]");
  REQUIRE(e);
  CHECK(e->steps() == std::vector<Step>{int64_t{0}, std::string("key.with dots"), std::string("q\"")});
  CHECK(e->text() == "[0][\"key.with dots\"][\"q\\\"\"]");
}

TEST_CASE("malformed field selectors are refused with the position of the problem", "[input]") {
  struct Case {
    const char* text;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {".a", "starts with '.' at position 0"},
      {"a.", "expected a key after '.' at position 2"},
      {"a..b", "at position 2"},
      {"a[", "expected an array index"},
      {"a[x]", "expected an array index (e.g. [0] or [-1]) at position 2"},
      {"a[1", "expected ']' to close the array index at position 3"},
      {"a[-0]", "index -0 is not allowed"},
      {"a[+1]", "expected an array index"},
      {"a]b", "unexpected ']' at position 1"},
      {"a b", "whitespace or a control byte"},
      {"a.[0]", "'.' must be followed by a key"},
      {"a[0]b", "expected '.' or '[' between steps at position 4"},
      {"a[\"x", "unterminated quoted key"},
      {"a[\"x\\n\"]", "only \\\" and \\\\ escapes"},
      {"a[1234567890123456789]", "array index too large"},
  };
  for (const Case& c : cases) {
    INFO("selector: " << c.text);
    auto sel = FieldSelector::parse(c.text);
    REQUIRE_FALSE(sel);
    CHECK(sel.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(sel.status().message(), Catch::Contains(c.expect));
  }
}

TEST_CASE("a field selector finds nested strings and counts negative indexes from the end", "[input]") {
  const auto record = nlohmann::json::parse(R"({
    "response": "plain",
    "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "the answer"}],
    "choices": [{"message": {"content": "choice text"}}],
    "a": {"b": ["x", "y", "z"]}
  })");
  auto check = [&](const char* text, const char* expect) {
    INFO("selector: " << text);
    auto sel = FieldSelector::parse(text);
    REQUIRE(sel);
    auto got = sel->select(record);
    INFO(got.status().message());
    REQUIRE(got);
    CHECK(*got == expect);
  };
  check("response", "plain");
  check("messages[-1].content", "the answer");
  check("messages[0].content", "q");
  check("messages[-2].role", "user");
  check("choices[0].message.content", "choice text");
  check("a.b[2]", "z");
  check("a.b[-3]", "x");
}

TEST_CASE("a field selector says which field is missing or has the wrong type", "[input]") {
  const auto record = nlohmann::json::parse(
      R"({"n": 5, "o": {}, "arr": [], "s": "x", "b": true, "z": null, "list": [1], "messages": []})");
  auto error = [&](const char* text) {
    auto sel = FieldSelector::parse(text);
    REQUIRE(sel);
    auto got = sel->select(record);
    REQUIRE_FALSE(got);
    CHECK(got.status().code() == StatusCode::kInvalidArgument);
    return got.status().message();
  };
  CHECK(error("missing") == "field 'missing' missing");
  CHECK(error("n") == "field 'n' is a number, not a string");
  CHECK(error("o") == "field 'o' is an object, not a string");
  CHECK(error("arr") == "field 'arr' is an array, not a string");
  CHECK(error("b") == "field 'b' is a boolean, not a string");
  CHECK(error("z") == "field 'z' is null, not a string");
  CHECK(error("list[0]") == "field 'list[0]' is a number, not a string");
  CHECK_THAT(error("messages[-1].content"),
             Catch::StartsWith("field 'messages[-1].content' missing: index -1 is out of range for an array of 0"));
  CHECK_THAT(error("s.x"), Catch::Contains("field 's' is a string, not an object"));
  CHECK_THAT(error("o[0]"), Catch::Contains("field 'o' is an object, not an array"));
  auto sel = FieldSelector::parse("text");
  REQUIRE(sel);
  auto top = sel->select(nlohmann::json::array());
  REQUIRE_FALSE(top);
  CHECK_THAT(top.status().message(), Catch::Contains("the record is an array, not an object"));
}

// ---- Formats and options ----------------------------------------------------------------------------------------

TEST_CASE("the input format follows the file extension unless forced", "[input]") {
  using telltale::input::detect_format;
  InputOptions o;
  CHECK(detect_format("a/b.jsonl", o) == InputFormat::kJsonl);
  CHECK(detect_format("b.JSON", o) == InputFormat::kJsonl);
  CHECK(detect_format("run.ids", o) == InputFormat::kIds);
  CHECK(detect_format("notes.txt", o) == InputFormat::kText);
  CHECK(detect_format("dir.jsonl/README", o) == InputFormat::kText);
  CHECK(detect_format("-", o) == InputFormat::kText);
  o.field = "text";
  CHECK(detect_format("-", o) == InputFormat::kJsonl);
  o.format = InputFormat::kIds;
  CHECK(detect_format("x.jsonl", o) == InputFormat::kIds);
}

TEST_CASE("invalid options and missing paths are refused before reading anything", "[input]") {
  InputOptions bad_field;
  bad_field.field = "messages[";
  auto a = DocumentSource::open({"-"}, bad_field);
  REQUIRE_FALSE(a);
  CHECK_THAT(a.status().message(), Catch::Contains("field selector 'messages['"));

  InputOptions tiny;
  tiny.max_document_bytes = 2;
  auto b = DocumentSource::open({"-"}, tiny);
  REQUIRE_FALSE(b);
  CHECK_THAT(b.status().message(), Catch::Contains("max_document_bytes 2 is out of range"));

  auto c = DocumentSource::open({}, {});
  REQUIRE_FALSE(c);
  CHECK_THAT(c.status().message(), Catch::Contains("no input paths"));

  auto d = DocumentSource::open({"-", "-"}, {});
  REQUIRE_FALSE(d);
  CHECK_THAT(d.status().message(), Catch::Contains("more than once"));

  auto e = DocumentSource::open({"/nonexistent/telltale/corpus.txt"}, {});
  REQUIRE_FALSE(e);
  CHECK(e.status().code() == StatusCode::kIo);
  CHECK(e.status().message() == "/nonexistent/telltale/corpus.txt: cannot open: No such file or directory");
}

// ---- Text -------------------------------------------------------------------------------------------------------

TEST_CASE("a small text file is one document with line 0", "[input]") {
  TempDir dir("whole");
  const std::string path = dir.file("a.txt", "Once upon a time.\nThe end.\n");
  auto source = open_or_fail({path});
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() == 1);
  CHECK(d.docs[0].source == path);
  CHECK(d.docs[0].line == 0);
  CHECK(d.docs[0].index == 0);
  CHECK(d.docs[0].text == "Once upon a time.\nThe end.\n");
  CHECK_FALSE(d.docs[0].pretokenized);
  CHECK(source.bytes_read() == 27);
  CHECK(source.documents_read() == 1);
}

TEST_CASE("a text file over max_document_bytes is cut after whitespace and the pieces rebuild it", "[input]") {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i) + (i % 7 == 6 ? "\n" : " ");
  InputOptions o;
  o.max_document_bytes = 64;
  auto source = memory_or_fail("big.txt", text, o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() > 10);
  std::string joined;
  uint64_t line = 1;
  for (size_t i = 0; i < d.docs.size(); ++i) {
    const Document& doc = d.docs[i];
    CHECK(doc.text.size() <= 64);
    CHECK(doc.index == i);
    CHECK(doc.line == line);  // each piece starts on the line where the previous one ended
    CHECK(telltale::input::validate_utf8(doc.text) == std::nullopt);
    if (i + 1 < d.docs.size()) CHECK((doc.text.back() == ' ' || doc.text.back() == '\n'));
    line += static_cast<uint64_t>(std::count(doc.text.begin(), doc.text.end(), '\n'));
    joined += doc.text;
  }
  CHECK(joined == text);
}

TEST_CASE("a run with no whitespace is cut at a UTF-8 character boundary", "[input]") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "\xC3\xA9\xE2\x82\xAC";  // é€ with no whitespace: 5 bytes per pair
  InputOptions o;
  o.max_document_bytes = 16;
  auto source = memory_or_fail("run.txt", text, o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  std::string joined;
  for (size_t i = 0; i < d.docs.size(); ++i) {
    const Document& doc = d.docs[i];
    CHECK(doc.text.size() <= 16);
    if (i + 1 < d.docs.size()) CHECK(doc.text.size() >= 13);  // at most a partial character (3 bytes) held back
    CHECK(telltale::input::validate_utf8(doc.text) == std::nullopt);
    joined += doc.text;
  }
  CHECK(joined == text);
}

TEST_CASE("paragraph mode splits at blank lines, including whitespace-only and CRLF ones", "[input]") {
  const std::string text =
      "\n\nFirst paragraph\nstill first.\n\nSecond one.\r\n   \r\nThird\n\t\n\n\nFourth at the end   \n  \n";
  InputOptions o;
  o.split = TextSplit::kParagraph;
  auto source = memory_or_fail("p.txt", text, o);
  Drained d = drain(source);
  CHECK(texts_and_lines(d) ==
        std::vector<std::pair<std::string, uint64_t>>{
            {"First paragraph\nstill first.", 3}, {"Second one.", 6}, {"Third", 8}, {"Fourth at the end", 12}});
  for (size_t i = 0; i < d.docs.size(); ++i) CHECK(d.docs[i].index == i);
}

TEST_CASE("a paragraph over max_document_bytes is cut into pieces that carry their own lines", "[input]") {
  std::string para;
  for (int i = 0; i < 40; ++i) para += "line number " + std::to_string(i) + "\n";
  InputOptions o;
  o.split = TextSplit::kParagraph;
  o.max_document_bytes = 50;
  auto source = memory_or_fail("p.txt", para + "\nafter\n", o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() > 5);
  for (const Document& doc : d.docs) CHECK(doc.text.size() <= 50);
  CHECK(d.docs.back().text == "after");
  CHECK(d.docs.back().line == 42);
  CHECK(d.docs[1].line > 1);
}

TEST_CASE("line mode gives one document per non-blank line without its terminator", "[input]") {
  InputOptions o;
  o.split = TextSplit::kLine;
  auto source = memory_or_fail("l.txt", "alpha\r\n\n   \nbeta gamma \n  delta\nlast without newline", o);
  CHECK(texts_and_lines(drain(source)) ==
        std::vector<std::pair<std::string, uint64_t>>{
            {"alpha", 1}, {"beta gamma", 4}, {"delta", 5}, {"last without newline", 6}});
}

TEST_CASE("a UTF-8 byte order mark at the start of a file is dropped", "[input]") {
  auto text = memory_or_fail("bom.txt", "\xEF\xBB\xBFhello");
  Drained a = drain(text);
  REQUIRE(a.docs.size() == 1);
  CHECK(a.docs[0].text == "hello");
  InputOptions o;
  o.field = "t";
  auto jsonl = memory_or_fail("bom.jsonl", "\xEF\xBB\xBF{\"t\": \"x\"}\n", o);
  Drained b = drain(jsonl);
  REQUIRE(b.error.is_ok());
  REQUIRE(b.docs.size() == 1);
  CHECK(b.docs[0].text == "x");
}

TEST_CASE("invalid UTF-8 in a text file is reported with the file and the line of the bad byte", "[input]") {
  TempDir dir("utf8");
  const std::string path = dir.file("bad.txt", "good line\nsecond line\nthird \xFF line\n");
  auto source = open_or_fail({path});
  const std::string msg = error_of(source);
  CHECK(msg == path + ":3: invalid UTF-8 (byte 0xff at file offset 28)");

  InputOptions lines;
  lines.split = TextSplit::kLine;
  auto by_line = memory_or_fail("mem.txt", "ok\nok\n\xC0\x80 overlong\nok\n", lines);
  CHECK(error_of(by_line) == "mem.txt:3: invalid UTF-8 (byte 0xc0 at file offset 6)");
}

TEST_CASE("an empty or whitespace-only text file holds no document, and no document at all is an error", "[input]") {
  TempDir dir("empty");
  const std::string empty = dir.file("empty.txt", "");
  const std::string blank = dir.file("blank.txt", " \n\t\n");
  const std::string text = dir.file("text.txt", "words\n");
  auto a = open_or_fail({empty});
  CHECK(error_of(a) == "no documents read from " + empty + " (--allow-empty accepts that)");
  InputOptions paragraphs;
  paragraphs.split = TextSplit::kParagraph;
  auto b = open_or_fail({blank, empty}, paragraphs);
  CHECK(error_of(b) == "no documents read from " + blank + " and 1 other file(s) (--allow-empty accepts that)");
  std::filesystem::create_directory(dir.str() + "/sub");
  auto none = open_or_fail({dir.str() + "/sub"});
  CHECK(error_of(none) == "no documents read: the inputs hold no file (--allow-empty accepts that)");
  auto mixed = open_or_fail({empty, text, blank});
  Drained m = drain(mixed);
  REQUIRE(m.error.is_ok());
  REQUIRE(m.docs.size() == 1);
  CHECK(m.docs[0].text == "words\n");
  InputOptions allow;
  allow.allow_empty = true;
  auto c = open_or_fail({empty, blank}, allow);
  Drained d = drain(c);
  CHECK(d.error.is_ok());
  CHECK(d.docs.empty());
}

// ---- Directories, order, stdin, streams ----------------------------------------------------------------------------

TEST_CASE("directories are walked recursively in sorted order, skipping hidden entries", "[input]") {
  TempDir dir("walk");
  dir.file("b.txt", "bee");
  dir.file("a.txt", "ay");
  dir.file("sub/z.txt", "zed");
  dir.file("sub/c.jsonl", "{\"text\": \"from jsonl\"}\n");
  dir.file("sub/deeper/d.ids", "1 2 3\n");
  dir.file(".hidden.txt", "never");
  dir.file(".git/config", "never");
  dir.file("c.txt", "sea");
  fs::create_directory_symlink(dir.str() + "/sub", dir.str() + "/sub-link");  // not followed
  const std::string extra = dir.file("extra/last.txt", "given after the directory");
  InputOptions o;
  o.field = "text";

  std::vector<std::string> first_order;
  for (int run = 0; run < 2; ++run) {
    auto source = open_or_fail({dir.str() + "/sub", dir.str(), extra}, o);
    Drained d = drain(source);
    REQUIRE(d.error.is_ok());
    std::vector<std::string> order;
    for (const Document& doc : d.docs) order.push_back(fs::relative(doc.source, dir.str()).string());
    const std::vector<std::string> expect = {"sub/c.jsonl",   "sub/deeper/d.ids",
                                             "sub/z.txt",  // the first path
                                             "a.txt",         "b.txt",
                                             "c.txt",         "extra/last.txt",
                                             "sub/c.jsonl",   "sub/deeper/d.ids",
                                             "sub/z.txt",        // the dir
                                             "extra/last.txt"};  // the last path
    CHECK(order == expect);
    if (run == 0) first_order = order;
    CHECK(order == first_order);
    REQUIRE(d.docs.size() == expect.size());
    CHECK(d.docs[0].text == "from jsonl");
    CHECK(d.docs[0].line == 1);
    CHECK(d.docs[1].pretokenized);
    CHECK(d.docs[1].ids == std::vector<int32_t>{1, 2, 3});
    CHECK(d.docs[3].text == "ay");
  }
}

TEST_CASE("stdin (the path -) is read as text, or as JSONL when a field is given", "[input]") {
  TempDir dir("stdin");
  auto with_stdin = [&](const std::string& bytes, const InputOptions& o) {
    const std::string path = dir.file("stdin-content", bytes);
    const int saved = ::dup(STDIN_FILENO);
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(saved >= 0);
    REQUIRE(fd >= 0);
    REQUIRE(::dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    ::close(fd);
    auto source = open_or_fail({"-"}, o);
    Drained d = drain(source);
    REQUIRE(::dup2(saved, STDIN_FILENO) == STDIN_FILENO);
    ::close(saved);
    return d;
  };
  Drained text = with_stdin("from stdin\n", {});
  REQUIRE(text.error.is_ok());
  REQUIRE(text.docs.size() == 1);
  CHECK(text.docs[0].source == "<stdin>");
  CHECK(text.docs[0].text == "from stdin\n");

  InputOptions o;
  o.field = "response";
  Drained jsonl = with_stdin("{\"response\": \"r1\"}\n{\"response\": \"r2\"}\n", o);
  REQUIRE(jsonl.error.is_ok());
  REQUIRE(jsonl.docs.size() == 2);
  CHECK(jsonl.docs[1].text == "r2");
  CHECK(jsonl.docs[1].line == 2);
  CHECK(jsonl.docs[1].source == "<stdin>");
}

TEST_CASE("a source can read from any std::istream", "[input]") {
  std::istringstream in("{\"t\": \"one\"}\n{\"t\": \"two\"}\n");
  InputOptions o;
  o.field = "t";
  auto source = DocumentSource::from_stream("stream", in, InputFormat::kJsonl, o);
  REQUIRE(source);
  Drained d = drain(*source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() == 2);
  CHECK(d.docs[1].text == "two");
  CHECK(source->bytes_read() == in.str().size());
}

// ---- JSONL ---------------------------------------------------------------------------------------------------------

TEST_CASE("JSONL records yield the selected field with their line numbers", "[input]") {
  InputOptions o;
  o.field = "messages[-1].content";
  const std::string data =
      "{\"messages\": [{\"content\": \"q\"}, {\"content\": \"answer one\"}]}\n"
      "\n"
      "   \r\n"
      "{\"messages\": [{\"content\": \"answer two \\u00e9\"}]}\r\n"
      "{\"messages\": [{\"content\": \"last, no newline\"}]}";
  auto source = memory_or_fail("chat.jsonl", data, o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() == 3);
  CHECK(d.docs[0].text == "answer one");
  CHECK(d.docs[0].line == 1);
  CHECK(d.docs[1].text == "answer two \xC3\xA9");
  CHECK(d.docs[1].line == 4);
  CHECK(d.docs[2].line == 5);
  CHECK(d.docs[2].index == 2);
}

TEST_CASE("JSONL without a field selector takes records that are JSON strings", "[input]") {
  auto good = memory_or_fail("s.jsonl", "\"first\"\n\"second\"\n");
  Drained d = drain(good);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() == 2);
  CHECK(d.docs[1].text == "second");
  auto bad = memory_or_fail("o.jsonl", "{\"text\": \"x\"}\n");
  CHECK_THAT(error_of(bad), Catch::StartsWith("o.jsonl:1: the record is an object; with no field selector"));
}

TEST_CASE("a JSONL text over max_document_bytes is cut into pieces on the same line", "[input]") {
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += "token" + std::to_string(i) + " ";
  InputOptions o;
  o.field = "t";
  o.max_document_bytes = 40;
  auto source = memory_or_fail("long.jsonl", "{\"t\": \"short\"}\n{\"t\": \"" + long_text + "\"}\n", o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() > 3);
  std::string joined;
  for (size_t i = 1; i < d.docs.size(); ++i) {
    CHECK(d.docs[i].line == 2);
    CHECK(d.docs[i].index == i);
    CHECK(d.docs[i].text.size() <= 40);
    joined += d.docs[i].text;
  }
  CHECK(joined == long_text);
}

TEST_CASE("malformed JSONL is reported with the file and line", "[input]") {
  TempDir dir("jsonl");
  InputOptions o;
  o.field = "text";
  // name, bytes, the message after "<path>:", and whether that is the whole message or its start.
  struct Case {
    const char* name;
    std::string bytes;
    std::string message;
    bool whole;
  };
  const std::vector<Case> cases = {
      {"notjson.jsonl", "{\"text\": \"ok\"}\n{\"text\": oops}\n", "2: not valid JSON: parse error at line 1, column 10",
       false},
      {"truncated.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": \"no end\n", "3: not valid JSON:", false},
      {"missing.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n", "2: field 'text' missing", true},
      {"number.jsonl", "{\"text\": 42}\n", "1: field 'text' is a number, not a string", true},
      {"null.jsonl", "{\"text\": null}\n", "1: field 'text' is null, not a string", true},
      {"array.jsonl", "[1, 2]\n", "1: field 'text' missing: the record is an array, not an object", false},
      {"empty.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"  \\n \"}\n",
       "2: empty document (field 'text' is empty or only whitespace)", true},
      {"utf8.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"bad \xC3\x28\"}\n", "2: invalid UTF-8 (byte 0xc3 at column 15)",
       true},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = dir.file(c.name, c.bytes);
    auto source = open_or_fail({path}, o);
    const std::string msg = error_of(source);
    if (c.whole) {
      CHECK(msg == path + ":" + c.message);
    } else {
      CHECK_THAT(msg, Catch::StartsWith(path + ":" + c.message));
    }
  }
  {
    const std::string path = dir.file("surrogate.jsonl", "{\"text\": \"\\ud800\"}\n");
    auto source = open_or_fail({path}, o);
    const std::string msg = error_of(source);
    CHECK_THAT(msg, Catch::StartsWith(path + ":1: not valid JSON:"));
    CHECK_THAT(msg, Catch::Contains("surrogate"));
  }
  {
    InputOptions small = o;
    small.max_line_bytes = 32;
    const std::string path =
        dir.file("long.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"" + std::string(100, 'x') + "\"}\n");
    auto source = open_or_fail({path}, small);
    CHECK(error_of(source) == path + ":2: line longer than the limit of 32 bytes");
  }
}

TEST_CASE("after an error a source keeps returning that error", "[input]") {
  InputOptions o;
  o.field = "t";
  auto source = memory_or_fail("x.jsonl", "nope\n{\"t\": \"fine\"}\n", o);
  Document doc;
  auto first = source.next(doc);
  REQUIRE_FALSE(first);
  auto second = source.next(doc);
  REQUIRE_FALSE(second);
  CHECK(second.status().message() == first.status().message());
}

// ---- Token ids -----------------------------------------------------------------------------------------------------

TEST_CASE("an .ids file yields one pretokenized document per line", "[input]") {
  auto source = open_or_fail({model_file("greedy_t0_n256.ids")});
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.docs.size() == 1);
  CHECK(d.docs[0].pretokenized);
  CHECK(d.docs[0].text.empty());
  CHECK(d.docs[0].line == 1);
  REQUIRE(d.docs[0].ids.size() == 256);
  CHECK(d.docs[0].ids[0] == 403);
  CHECK(d.docs[0].ids[255] == 426);

  auto multi = memory_or_fail("m.ids", "1 2\t3\r\n\n  \n007  2147483647 0 \n");
  Drained m = drain(multi);
  REQUIRE(m.error.is_ok());
  REQUIRE(m.docs.size() == 2);
  CHECK(m.docs[0].ids == std::vector<int32_t>{1, 2, 3});
  CHECK(m.docs[1].ids == std::vector<int32_t>{7, 2147483647, 0});
  CHECK(m.docs[1].line == 4);
}

TEST_CASE("bad token ids are reported with the file, line and token position", "[input]") {
  auto err = [](const std::string& bytes, int64_t vocab = 0) {
    InputOptions o;
    o.vocab_size = vocab;
    auto source = memory_or_fail("t.ids", bytes, o);
    return error_of(source);
  };
  CHECK(err("1 2\n3 x4 5\n") == "t.ids:2: token 2 'x4' is not a decimal token id");
  CHECK(err("-1\n") == "t.ids:1: token 1 '-1' is not a decimal token id");
  CHECK(err("+1\n") == "t.ids:1: token 1 '+1' is not a decimal token id");
  CHECK(err("1.5\n") == "t.ids:1: token 1 '1.5' is not a decimal token id");
  CHECK(err("0 2147483648\n") == "t.ids:1: token 2 '2147483648' is out of range [0, 2^31)");
  CHECK(err("99999999999999999999999\n") == "t.ids:1: token 1 '99999999999999999999999' is out of range [0, 2^31)");
  CHECK(err("1 511 512\n", 512) == "t.ids:1: token 3 512 is out of range for a vocabulary of 512");
  CHECK(err("1,2\n") == "t.ids:1: token 1 '1,2' is not a decimal token id");
  CHECK(err("\xFF\n") == "t.ids:1: token 1 '\\xff' is not a decimal token id");
}

// ---- Unreadable inputs and skip_bad ------------------------------------------------------------------------------

TEST_CASE("unreadable inputs are reported with the path", "[input]") {
  // /proc/self/mem exists and opens, but reading offset 0 fails with EIO: a read error even for root.
  auto source = open_or_fail({"/proc/self/mem"});
  const std::string msg = error_of(source);
  CHECK(msg == "/proc/self/mem: read failed at byte 0: Input/output error");

  TempDir dir("unreadable");
  const std::string a_file = dir.file("plain.txt", "x");
  auto under_file = open_or_fail({dir.str()});  // a sanity run: the directory itself reads fine
  CHECK(drain(under_file).error.is_ok());
  auto not_a_dir = DocumentSource::open({a_file + "/child.txt"}, {});
  REQUIRE_FALSE(not_a_dir);
  CHECK(not_a_dir.status().message() == a_file + "/child.txt: cannot open: Not a directory");

  fs::create_symlink(dir.str() + "/nowhere", dir.str() + "/dangling.txt");
  auto dangling = open_or_fail({dir.str()});
  CHECK(error_of(dangling) == dir.str() + "/dangling.txt: cannot open: No such file or directory");

  if (::geteuid() != 0) {  // permissions do not stop root, so this part only runs for other users
    const std::string locked = dir.file("locked.txt", "secret");
    ::chmod(locked.c_str(), 0);
    auto perm = open_or_fail({locked});
    CHECK(error_of(perm) == locked + ": cannot open: Permission denied");
  }
}

TEST_CASE("skip_bad counts bad documents and files, keeps the first messages, and goes on", "[input]") {
  TempDir dir("skip");
  const std::string jsonl = dir.file("a.jsonl",
                                     "{\"t\": \"good 1\"}\n"
                                     "not json\n"
                                     "{\"u\": \"no t\"}\n"
                                     "{\"t\": \"good 2\"}\n"
                                     "{\"t\": 7}\n"
                                     "{\"t\": \"" +
                                         std::string(200, 'y') +
                                         "\"}\n"
                                         "{\"t\": \"good 3\"}\n");
  const std::string ids = dir.file("b.ids", "1 2\nbad\n3\n");
  const std::string text = dir.file("c.txt", "caf\xC3 broken\n");
  const std::string fine = dir.file("d.txt", "the end");
  InputOptions o;
  o.field = "t";
  o.skip_bad = true;
  o.max_line_bytes = 100;
  auto source = open_or_fail({jsonl, dir.str() + "/missing.txt", ids, "/proc/self/mem", text, fine}, o);
  Drained d = drain(source);
  REQUIRE(d.error.is_ok());
  std::vector<std::string> got;
  for (const Document& doc : d.docs) got.push_back(doc.pretokenized ? "ids" : doc.text);
  CHECK(got == std::vector<std::string>{"good 1", "good 2", "good 3", "ids", "ids", "the end"});
  CHECK(d.docs[2].line == 7);
  CHECK(d.docs[2].index == 6);  // skipped records keep their place in the count
  CHECK(source.skipped_count() == 8);
  const auto& messages = source.skipped_messages();
  REQUIRE(messages.size() == 8);
  CHECK_THAT(messages[0], Catch::StartsWith(jsonl + ":2: not valid JSON"));
  CHECK(messages[1] == jsonl + ":3: field 't' missing");
  CHECK(messages[2] == jsonl + ":5: field 't' is a number, not a string");
  CHECK(messages[3] == jsonl + ":6: line longer than the limit of 100 bytes");
  CHECK(messages[4] == dir.str() + "/missing.txt: cannot open: No such file or directory");
  CHECK(messages[5] == ids + ":2: token 1 'bad' is not a decimal token id");
  CHECK(messages[6] == "/proc/self/mem: read failed at byte 0: Input/output error");
  CHECK(messages[7] == text + ":1: invalid UTF-8 (byte 0xc3 at file offset 3)");
}

TEST_CASE("skip_bad keeps only the first messages but counts every skipped document", "[input]") {
  std::string data;
  for (int i = 0; i < 100; ++i) data += "bad " + std::to_string(i) + "\n";
  InputOptions o;
  o.skip_bad = true;
  auto source = memory_or_fail("many.ids", data, o);
  Drained d = drain(source);
  CHECK(d.error.message() ==
        "no documents read from many.ids (all 100 found were skipped as bad; --allow-empty accepts that)");
  CHECK(d.docs.empty());
  CHECK(source.skipped_count() == 100);
  REQUIRE(source.skipped_messages().size() == telltale::input::kMaxSkippedMessages);
  CHECK(source.skipped_messages()[0] == "many.ids:1: token 1 'bad' is not a decimal token id");
}

// ---- Bounded memory ------------------------------------------------------------------------------------------------

TEST_CASE("a 50 MB text file streams in bounded memory with documents no larger than the limit", "[input]") {
  const std::string path =
      (fs::temp_directory_path() / ("telltale-input-50mb-" + std::to_string(::getpid()) + ".txt")).string();
  constexpr size_t kTotal = 50u << 20;
  uint64_t written_hash = kFnvBasis;
  {
    std::ofstream out(path, std::ios::binary);
    std::string chunk;
    size_t written = 0;
    uint32_t state = 12345;  // fixed seed: the same file every run
    while (written < kTotal) {
      chunk.clear();
      while (chunk.size() < (1u << 20)) {
        state = state * 1664525u + 1013904223u;
        const uint32_t r = state >> 16;
        if (r % 5000 == 0) {
          chunk.append(70000, 'x');  // a run longer than a document, with no whitespace to cut at
        } else {
          chunk += "w" + std::to_string(r % 997) + ((r % 13 == 0) ? "\n" : " ");
        }
      }
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      written_hash = fnv1a(written_hash, chunk);
      written += chunk.size();
    }
    REQUIRE(out.good());
  }
  const auto file_size = static_cast<uint64_t>(fs::file_size(path));

  struct rusage before {};
  ::getrusage(RUSAGE_SELF, &before);
  InputOptions o;
  o.max_document_bytes = 64 << 10;
  auto source = open_or_fail({path}, o);
  Document doc;
  uint64_t docs = 0;
  uint64_t total = 0;
  uint64_t read_hash = kFnvBasis;
  size_t largest = 0;
  while (true) {
    auto more = source.next(doc);
    INFO(more.status().message());
    REQUIRE(more);
    if (!*more) break;
    ++docs;
    largest = std::max(largest, doc.text.size());
    total += doc.text.size();
    read_hash = fnv1a(read_hash, doc.text);
  }
  struct rusage after {};
  ::getrusage(RUSAGE_SELF, &after);
  fs::remove(path);

  CHECK(largest <= o.max_document_bytes);
  CHECK(docs >= file_size / o.max_document_bytes);
  CHECK(total == file_size);         // nothing lost or duplicated...
  CHECK(read_hash == written_hash);  // ...and in the same order
  CHECK(source.bytes_read() == file_size);
  // Peak resident memory grows by far less than the file: the reader holds about one document plus a chunk.
  const long grown_kib = after.ru_maxrss - before.ru_maxrss;
  INFO("peak RSS grew by " << grown_kib << " KiB while streaming " << (file_size >> 20) << " MiB");
  CHECK(grown_kib < 16 * 1024);
}

// ---- Tokenizer -----------------------------------------------------------------------------------------------------

TEST_CASE("the tokenizer loads tok512.model and fingerprints it with SHA-256", "[input]") {
  static_assert(!std::is_copy_constructible_v<Tokenizer>);
  static_assert(std::is_nothrow_move_constructible_v<Tokenizer>);
  auto tok = Tokenizer::load(model_file("tok512.model"));
  INFO(tok.status().message());
  REQUIRE(tok);
  CHECK(tok->vocab_size() == 512);
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->sha256_hex() == "822b28dcdee7b4f2de3332e0066a3f33688e08afb26e9e7808a58aa6426bd55b");
  auto streamed = telltale::input::sha256_file_hex(model_file("tok512.model"));
  REQUIRE(streamed);
  CHECK(*streamed == tok->sha256_hex());
  auto corpus = telltale::input::sha256_file_hex(shared("corpora/tinyshakespeare.txt"));
  REQUIRE(corpus);
  CHECK(*corpus == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");
  CHECK(telltale::input::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Tokenizer moved = std::move(tok).value();
  CHECK(moved.vocab_size() == 512);
}

TEST_CASE("encoding the greedy sample text gives the ids the model emitted", "[input]") {
  auto tok = Tokenizer::load(model_file("tok512.model"));
  REQUIRE(tok);
  auto texts = open_or_fail({model_file("greedy_t0_n256.txt")});
  auto ids = open_or_fail({model_file("greedy_t0_n256.ids")});
  Document text_doc;
  Document ids_doc;
  auto got_text = texts.next(text_doc);
  auto got_ids = ids.next(ids_doc);
  REQUIRE((got_text && *got_text));
  REQUIRE((got_ids && *got_ids));
  std::vector<int32_t> encoded;
  // The text file ends with the newline the runner printed after generating; the model did not emit it.
  std::string text = text_doc.text;
  REQUIRE(text.back() == '\n');
  text.pop_back();
  REQUIRE(tok->encode(text, encoded));
  CHECK(encoded == ids_doc.ids);
  auto decoded = tok->decode(ids_doc.ids);
  REQUIRE(decoded);
  CHECK(*decoded == text);
}

TEST_CASE("SentencePiece round-trips paragraphs of the shared corpora", "[input]") {
  auto tok = Tokenizer::load(model_file("tok512.model"));
  REQUIRE(tok);
  InputOptions o;
  o.split = TextSplit::kParagraph;
  auto source = open_or_fail({shared("corpora/tinyshakespeare.txt"), model_file("sample_t1_p0.9_s133742.txt")}, o);
  Document doc;
  std::vector<int32_t> ids;
  int checked = 0;
  while (checked < 300) {
    auto more = source.next(doc);
    REQUIRE(more);
    if (!*more) break;
    if (doc.source.find("tinyshakespeare") != std::string::npos && checked >= 250) continue;  // keep it fast
    REQUIRE(tok->encode(doc.text, ids));
    REQUIRE_FALSE(ids.empty());
    for (int32_t id : ids) REQUIRE((id >= 0 && id < 512));
    auto back = tok->decode(ids);
    REQUIRE(back);
    INFO(doc.source << ":" << doc.line);
    CHECK(*back == doc.text);
    ++checked;
  }
  CHECK(checked >= 250);
}

TEST_CASE("a missing, non-model or directory tokenizer path is a clear error", "[input]") {
  TempDir dir("tok");
  const std::string missing = dir.str() + "/nope.model";
  auto a = Tokenizer::load(missing);
  REQUIRE_FALSE(a);
  CHECK(a.status().code() == StatusCode::kIo);
  CHECK(a.status().message() == missing + ": cannot open tokenizer model: No such file or directory");

  const std::string text = dir.file("not-a-model.model", "this is a text file, not a protobuf\n");
  auto b = Tokenizer::load(text);
  REQUIRE_FALSE(b);
  CHECK(b.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(b.status().message(), Catch::StartsWith(text + ": not a SentencePiece model"));

  const std::string empty = dir.file("empty.model", "");
  auto c = Tokenizer::load(empty);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.status().message(), Catch::StartsWith(empty + ": not a SentencePiece model"));

  auto d = Tokenizer::load(dir.str());
  REQUIRE_FALSE(d);
  CHECK(d.status().message() == dir.str() + ": tokenizer model is a directory, not a regular file");

  auto e = Tokenizer::load(model_file("tok512.bin"));  // llama2.c's format, not SentencePiece's
  REQUIRE_FALSE(e);
  CHECK_THAT(e.status().message(), Catch::Contains("not a SentencePiece model"));

  auto f = telltale::input::sha256_file_hex(missing);
  REQUIRE_FALSE(f);
  CHECK(f.status().code() == StatusCode::kIo);
}

TEST_CASE("decoding an id outside the vocabulary is an error, not a crash", "[input]") {
  auto tok = Tokenizer::load(model_file("tok512.model"));
  REQUIRE(tok);
  const std::vector<int32_t> ids = {5, 512};
  auto got = tok->decode(ids);
  REQUIRE_FALSE(got);
  CHECK(got.status().message() == "token 2 (id 512) is out of range for a vocabulary of 512");
  const std::vector<int32_t> negative = {-1};
  CHECK_FALSE(tok->decode(negative));
}
