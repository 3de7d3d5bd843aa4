#pragma once
// Logging goes through spdlog to stderr so that stdout stays clean for the data a command prints
// (tokens, JSON, generated text).

#include <spdlog/spdlog.h>

namespace autarky {

enum class LogLevel { kQuiet, kInfo, kDebug };

// Sets up the stderr logger once; later calls only change the level.
void init_logging(LogLevel level);

}  // namespace autarky

#define AUTARKY_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define AUTARKY_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define AUTARKY_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
