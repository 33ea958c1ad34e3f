// Writes a run's output files. Each file is written to a temporary name and renamed into
// place, so a full disk or a crash never leaves a half-written report that looks complete.
#pragma once

#include <string>

#include "nodes/net/result.h"

namespace warren::reports {

// Creates `dir` (and parents) if missing; error if it exists and is not a writable folder.
Status ensure_output_dir(const std::string& dir);
// Atomically replaces dir/name with `content`. Errors name the file and the OS reason.
Status write_file_atomic(const std::string& dir, const std::string& name, const std::string& content);

}  // namespace warren::reports
