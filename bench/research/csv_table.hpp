// A CSV file written row by row (fields are numbers and labels without commas or quotes).
#pragma once

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>

namespace telltale::research {

inline std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

class CsvTable {
 public:
  CsvTable(const std::string& path, std::initializer_list<std::string> header) : out_(path) { row(header); }
  bool ok() const { return out_.good(); }
  void row(std::initializer_list<std::string> fields) {
    bool first = true;
    for (const std::string& f : fields) {
      if (!first) out_ << ',';
      out_ << f;
      first = false;
    }
    out_ << '\n';
  }

 private:
  std::ofstream out_;
};

}  // namespace telltale::research
