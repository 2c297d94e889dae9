// The directory walk: given paths in order, directories recursively in byte order of their entries' names.
#include "input/directory_reader.hpp"

#include <algorithm>
#include <filesystem>

namespace telltale::input::detail {

namespace fs = std::filesystem;

DirectoryWalk::Step DirectoryWalk::push_dir(const std::string& dir) {
  std::error_code ec;
  Frame frame;
  frame.dir = dir;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string entry = it->path().filename().string();
    if (!entry.empty() && entry[0] != '.') frame.names.push_back(std::move(entry));
  }
  if (ec) return {Kind::kBad, dir, io_error(dir + ": cannot list directory: " + ec.message())};
  std::sort(frame.names.begin(), frame.names.end());
  dirs_.push_back(std::move(frame));
  return {};
}

DirectoryWalk::Step DirectoryWalk::next() {
  while (true) {
    if (!dirs_.empty()) {
      Frame& frame = dirs_.back();
      if (frame.next >= frame.names.size()) {
        dirs_.pop_back();
        continue;
      }
      std::string path = (fs::path(frame.dir) / frame.names[frame.next++]).string();
      std::error_code ec;
      fs::file_status st = fs::symlink_status(path, ec);
      if (!ec && fs::is_symlink(st)) {
        st = fs::status(path, ec);
        if (!ec && fs::is_directory(st)) continue;  // not followed: links could make the walk loop
      }
      if (ec) return {Kind::kBad, path, io_error(path + ": cannot open: " + ec.message())};
      if (fs::is_directory(st)) {
        if (Step bad = push_dir(path); bad.kind == Kind::kBad) return bad;
      } else if (fs::is_regular_file(st)) {
        return {Kind::kFile, std::move(path), Status::ok()};
      }
      continue;
    }
    if (next_path_ >= paths_.size()) return {};
    const std::string& path = paths_[next_path_++];
    if (path == "-") return {Kind::kStdin, path, Status::ok()};
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec) return {Kind::kBad, path, io_error(path + ": cannot open: " + ec.message())};
    if (fs::is_directory(st)) {
      if (Step bad = push_dir(path); bad.kind == Kind::kBad) return bad;
      continue;
    }
    return {Kind::kFile, path, Status::ok()};
  }
}

}  // namespace telltale::input::detail
