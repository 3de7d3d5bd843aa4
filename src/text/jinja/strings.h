#pragma once
// Python str behaviour shared by filters and string methods. Case mapping covers ASCII only;
// everything else passes through unchanged.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/jinja/value.h"

namespace autarky::jinja {

class Interpreter;

// str.strip/lstrip/rstrip: `chars` absent strips whitespace; present strips those code points.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit): no separator splits on runs of whitespace and drops empty parts.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit);
std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit);
std::string py_replace(Interpreter& in, std::string_view s, std::string_view from, std::string_view to,
                       std::int64_t count);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
// "..." % args: %s %r %d %i %f %x %% with flags, width and precision.
std::string percent_format(Interpreter& in, const std::string& format, const Value& args);
// "...".format(*args, **kwargs): {} {0} {name} with attribute/index lookups left out.
std::string brace_format(Interpreter& in, const std::string& format, const CallArgs& args);
bool is_python_space(std::string_view s, std::size_t i, std::size_t* length);

}  // namespace autarky::jinja
