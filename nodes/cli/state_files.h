// Small private files in a state directory, for the commands that keep keys on disk
// (`warren control serve`; the client commands may use it too). The directory is created with
// mode 0700 and the files with 0600, since they hold private keys.
#pragma once

#include <optional>
#include <string>

#include "nodes/common/x25519.h"
#include "nodes/net/result.h"
#include "nodes/net/rng.h"

namespace warren::cli {

// A node's state directory (`warren debug netmap` creates it, `warren debug relay` reuses its
// node key): the private keys, the control server's key pinned on first use, and the last
// registration. `warren relay serve` pins the control server's key under the same name.
inline constexpr const char* kMachineKeyFile = "machine.key";
inline constexpr const char* kNodeKeyFile = "node.key";
inline constexpr const char* kDiscoKeyFile = "disco.key";
inline constexpr const char* kControlServerKeyFile = "control-server.pub";
// The last successful registration. Its presence tells the client that the server knows this
// machine, so a spent or expired auth key is not needed.
inline constexpr const char* kNodeFile = "node.json";

// Creates `dir` (mode 0700; missing parents with the default mode) unless it exists. Errors
// name the directory and what to do.
Status ensure_private_dir(const std::string& dir);

// The first line of a small text file, trailing spaces and CR removed; nullopt if the file does
// not exist.
Result<std::optional<std::string>> read_first_line(const std::string& path);

// Writes `text` and a newline to a new file of mode 0600 and fsyncs it; never replaces one.
Status write_new_private_file(const std::string& path, const std::string& text);

// The X25519 private key in `path` (base64, as `wg genkey` writes it), generated from `rng` and
// saved on first use. `what` names the key in messages ("the server's key").
Result<PrivateKey> load_or_create_private_key(const std::string& path, Rng& rng,
                                              const std::string& what);

// The public key pinned in `path` (base64, one line); nullopt if the file does not exist. A
// file that holds no key is an error saying to delete it to pin `what` ("the server's key")
// again.
Result<std::optional<PublicKey>> read_pinned_key(const std::string& path, const std::string& what);

// Reads a whole text file of at most `max_bytes`; errors name the file.
Result<std::string> read_text_file(const std::string& path, size_t max_bytes);

}  // namespace warren::cli
