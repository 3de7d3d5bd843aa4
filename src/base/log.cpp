#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace autarky {

void init_logging(LogLevel level) {
  static const bool initialised = [] {
    auto logger = spdlog::stderr_color_mt("autarky");
    logger->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)initialised;
  switch (level) {
    case LogLevel::kQuiet: spdlog::set_level(spdlog::level::warn); break;
    case LogLevel::kInfo: spdlog::set_level(spdlog::level::info); break;
    case LogLevel::kDebug: spdlog::set_level(spdlog::level::debug); break;
  }
}

}  // namespace autarky
