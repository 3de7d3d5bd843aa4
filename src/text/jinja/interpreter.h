#pragma once
// Walks a parsed template and produces its output, with jinja2's scoping rules: `if` shares its
// scope, every loop iteration, macro call and `with` block gets a fresh one, and a macro sees the
// template's top-level variables but not its caller's locals.
//
// A template is untrusted data, so every render is bounded: evaluation steps, nesting of the
// interpreter's own recursion, macro call depth, output/string size and number of containers.
// Crossing a bound throws Error; nothing a template does can hang or crash the process.

#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace autarky::jinja {

struct RenderLimits {
  std::size_t max_steps = 2'000'000;         // expression evaluations + statements + items produced
  std::size_t max_string_bytes = 16u << 20;  // the output and any single string value
  std::size_t max_objects = 500'000;         // lists, dicts and functions created during a render
  int max_call_depth = 100;                  // macro calls in progress
  int max_nesting = 1500;                    // interpreter recursion (expressions, blocks, calls)
};

// Raised by the template itself through raise_exception(msg): what() is exactly msg.
class TemplateRaised : public Error {
 public:
  using Error::Error;
};

class Interpreter {
 public:
  Interpreter(RenderLimits limits, std::tm now);

  Arena& arena() { return arena_; }
  // Top-level variable visible to the template (messages, bos_token, ... and builtins).
  void set_global(const std::string& name, Value value);
  std::string render(const Template& tmpl);

  // Used by builtins (filters, tests, methods, globals).
  void charge(std::size_t steps);
  // Charges for copying values into a new container: one step per item plus the string bytes
  // copied (a step per 64 bytes), so copying big strings around costs what it really costs.
  void charge_items(const std::vector<Value>& items);
  void check_size(std::size_t bytes) const;
  ListObj* new_list();
  DictObj* new_dict();
  FunctionObj* new_function();
  Value call(const Value& callee, CallArgs& args);
  const std::tm& now() const { return now_; }
  const RenderLimits& limits() const { return limits_; }

 private:
  enum class Flow { Normal, Break, Continue };

  struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::size_t parent;  // frame where lookups continue; frame 0 is the root
  };

  struct NestingGuard {
    explicit NestingGuard(Interpreter& in);
    ~NestingGuard() { --interp.nesting_; }
    Interpreter& interp;
  };

  Flow exec_body(const Body& body);
  Flow exec(const Stmt& s);
  Flow exec_for(const Stmt& s);
  void exec_set(const Stmt& s, Value value);
  void define_macro(const Stmt& s);
  void exec_call_block(const Stmt& s);
  std::string capture(const Body& body);

  Value eval(const Expr& e);
  Value eval_unchecked(const Expr& e);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_filter_chain(const Expr& chain, Value input);
  CallArgs eval_arguments(const Expr& e, std::size_t first_arg);
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  Value call_macro(const FunctionObj& fn, CallArgs& args);

  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value value);
  void push_frame(std::size_t parent);
  void pop_frame() { frames_.pop_back(); }
  void emit(std::string_view text);

  RenderLimits limits_;
  std::tm now_;
  Arena arena_;
  std::vector<Frame> frames_;
  std::string* out_ = nullptr;
  std::size_t steps_ = 0;
  int nesting_ = 0;
  int call_depth_ = 0;
};

// Builtins, each family in its own file.
Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
// Python-style methods: "abc".upper(), d.items(), l.append(x). Returns false when `name` is no
// method of that value's type.
bool call_method(Interpreter& in, Value& self, const std::string& name, CallArgs& args, Value& result);
void install_globals(Interpreter& in);

// Binds call arguments to parameter names the way Python does; Error on unknown keywords,
// too many arguments or a missing required one (names ending in '?' are optional).
std::vector<Value> bind_arguments(const CallArgs& args, std::initializer_list<std::string_view> params,
                                  std::string_view function_name);

// Python binary operators shared by expressions and filters (sum, ...).
Value binary_operator(Interpreter& in, const std::string& op, const Value& a, const Value& b);
// Items iterated by `for`: list items, dict keys, string characters; Error for non-iterables.
std::vector<Value> iterate(const Value& v);
// Python slicing [start:stop:step] of a list, tuple or string.
Value slice_value(Interpreter& in, const Value& v, const Value& start, const Value& stop, const Value& step);

}  // namespace autarky::jinja
