#include "reports/report_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace warren::reports {

Status ensure_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create output folder " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error("output path " + dir + " exists and is not a folder");
  }
  return Status::success();
}

Status write_file_atomic(const std::string& dir, const std::string& name, const std::string& content) {
  std::string path = dir + "/" + name;
  std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return make_error("cannot write " + tmp + ": " + std::strerror(errno));
  size_t written = std::fwrite(content.data(), 1, content.size(), f);
  int flush_rc = std::fflush(f);
  int saved = errno;
  int close_rc = std::fclose(f);
  if (written != content.size() || flush_rc != 0 || close_rc != 0) {
    std::remove(tmp.c_str());
    return make_error("cannot write " + path + ": " + std::strerror(saved != 0 ? saved : errno) +
                      " (is the disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return make_error("cannot move " + tmp + " to " + path + ": " + std::strerror(e));
  }
  return Status::success();
}

}  // namespace warren::reports
