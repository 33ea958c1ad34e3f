#include "nodes/cli/state_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace warren::cli {
namespace {

std::string os_error() {
  return std::strerror(errno);
}

}  // namespace

Status ensure_private_dir(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path path(dir);
  if (std::filesystem::is_directory(path, ec)) return Status::success();
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("cannot create the state directory " + dir + ": " + os_error() +
                      "; create it or choose a writable one");
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return make_error("the state directory " + dir + " exists but is not a directory");
  }
  return Status::success();
}

Result<std::optional<std::string>> read_first_line(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return make_error("cannot read " + path + ": " + os_error());
  }
  std::string text;
  std::getline(in, text);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return std::optional<std::string>(text);
}

Status write_new_private_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot create " + path + ": " + os_error());
  const std::string line = text + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()) || !synced) {
    const std::string why = os_error();
    ::unlink(path.c_str());  // a half-written key would be read back as garbage
    return make_error("cannot write " + path + ": " + why);
  }
  return Status::success();
}

Result<PrivateKey> load_or_create_private_key(const std::string& path, Rng& rng,
                                              const std::string& what) {
  auto text = read_first_line(path);
  if (!text) return text.error();
  if (*text) {
    auto key = private_key_from_base64(**text);
    if (!key) {
      return make_error(path + " does not hold " + what + " (" + key.error().message +
                        "); restore it from a backup, or delete it to generate a new one");
    }
    return std::move(*key);
  }
  PrivateKey key = generate_private_key(rng);
  Status saved = write_new_private_file(path, to_base64(key));
  if (!saved) return saved.error();
  return key;
}

Result<std::optional<PublicKey>> read_pinned_key(const std::string& path, const std::string& what) {
  auto text = read_first_line(path);
  if (!text) return text.error();
  if (!*text) return std::optional<PublicKey>();
  auto key = public_key_from_base64(**text);
  if (!key) {
    return make_error(path + " is not a public key (" + key.error().message +
                      "); delete it to pin " + what + " again");
  }
  return std::optional<PublicKey>(*key);
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path + ": " + os_error());
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return make_error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) return make_error("cannot read " + path + ": " + os_error());
  return text;
}

}  // namespace warren::cli
