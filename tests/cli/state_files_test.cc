#include "nodes/cli/state_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "nodes/net/rng.h"
#include "tests/real/temp_dir.h"

namespace warren::cli {
namespace {

using ::testing::HasSubstr;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(StateFiles, CreatesAPrivateDirectoryWithItsParents) {
  TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string dir = tmp.file("a/b/state");
  ASSERT_TRUE(ensure_private_dir(dir).ok());
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_TRUE(ensure_private_dir(dir).ok());  // already there
}

TEST(StateFiles, AFileWhereTheDirectoryShouldBeIsAnError) {
  TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  { std::ofstream(tmp.file("state")) << "x"; }
  Status s = ensure_private_dir(tmp.file("state"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("not a directory"));
}

TEST(StateFiles, AKeyIsGeneratedOnceSavedPrivateAndReadBack) {
  TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string path = tmp.file("control.key");
  SeededRng rng(7, "state-files-test");
  auto first = load_or_create_private_key(path, rng, "the server's key");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(mode_of(path), 0600u);
  auto again = load_or_create_private_key(path, rng, "the server's key");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*first == *again);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, to_base64(*first));
}

TEST(StateFiles, AKeyFileWithGarbageIsAnErrorThatSaysWhatToDo) {
  TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string path = tmp.file("control.key");
  { std::ofstream(path) << "not a key\n"; }
  SeededRng rng(7, "state-files-test");
  auto key = load_or_create_private_key(path, rng, "the server's key");
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr(path + " does not hold the server's key"));
  EXPECT_THAT(key.error().message, HasSubstr("restore it from a backup"));
}

TEST(StateFiles, ReadTextFileBoundsTheSize) {
  TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  { std::ofstream(tmp.file("p")) << "0123456789"; }
  EXPECT_EQ(*read_text_file(tmp.file("p"), 10), "0123456789");
  auto big = read_text_file(tmp.file("p"), 9);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("larger than 9 bytes"));
  auto missing = read_text_file(tmp.file("none"), 9);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr(tmp.file("none")));
}

}  // namespace
}  // namespace warren::cli
