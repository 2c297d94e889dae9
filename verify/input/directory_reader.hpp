// The directory walk behind DocumentSource: the given paths in order, each directory walked recursively with its
// entries in byte order of their names, so a corpus is always read in the same order.
#pragma once

#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::input::detail {

class DirectoryWalk {
 public:
  enum class Kind {
    kFile,   // a file to open (a given path that is not a directory, or a regular file found in a directory)
    kStdin,  // "-"
    kBad,    // a path that cannot be listed or examined: `error` says why
    kEnd,    // every path is done
  };
  struct Step {
    Kind kind = Kind::kEnd;
    std::string path;
    Status error;
  };

  explicit DirectoryWalk(std::vector<std::string> paths) : paths_(std::move(paths)) {}

  // The next input. Inside directories it skips names that start with '.', symbolic links to directories (a link
  // could make the walk loop) and anything that is neither a regular file nor a directory (FIFOs, devices, sockets:
  // reading one could block forever).
  Step next();

 private:
  struct Frame {
    std::string dir;
    std::vector<std::string> names;
    size_t next = 0;
  };
  // Adds `dir`'s listing to the walk; a kBad step when it cannot be listed.
  Step push_dir(const std::string& dir);

  std::vector<std::string> paths_;
  size_t next_path_ = 0;
  std::vector<Frame> dirs_;  // the directories being walked, innermost last
};

}  // namespace telltale::input::detail
