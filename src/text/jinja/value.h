#pragma once
// The value type of the Jinja interpreter: Python-like scalars, lists/tuples, insertion-ordered
// dicts (also used for namespace() and loop objects) and callables.
//
// Containers live in an Arena owned by one render: values hold plain pointers to them. That makes
// reference semantics (a namespace changed inside a loop is seen outside it) cheap, lets a template
// build cycles (`l.append(l)`) without leaking, and frees everything at once, without recursive
// destructors, when the render ends. Nothing may outlive the Arena it came from.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace autarky::jinja {

class Interpreter;
struct ListObj;
struct DictObj;
struct FunctionObj;
struct Stmt;

enum class Kind : std::uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

struct Value {
  Kind kind = Kind::Undefined;
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0.0;
  // String: the contents (UTF-8). Undefined: the message raised when the value is misused.
  std::string text;
  ListObj* list = nullptr;
  DictObj* dict = nullptr;
  FunctionObj* function = nullptr;

  static Value undefined(std::string why) {
    Value v;
    v.text = std::move(why);
    return v;
  }
  static Value none() { return with_kind(Kind::None); }
  static Value from_bool(bool b) {
    Value v = with_kind(Kind::Bool);
    v.boolean = b;
    return v;
  }
  static Value from_int(std::int64_t i) {
    Value v = with_kind(Kind::Int);
    v.integer = i;
    return v;
  }
  static Value from_float(double d) {
    Value v = with_kind(Kind::Float);
    v.number = d;
    return v;
  }
  static Value from_string(std::string s) {
    Value v = with_kind(Kind::String);
    v.text = std::move(s);
    return v;
  }
  static Value from_list(ListObj* l) {
    Value v = with_kind(Kind::List);
    v.list = l;
    return v;
  }
  static Value from_dict(DictObj* d) {
    Value v = with_kind(Kind::Dict);
    v.dict = d;
    return v;
  }
  static Value from_function(FunctionObj* f) {
    Value v = with_kind(Kind::Function);
    v.function = f;
    return v;
  }

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_dict() const { return kind == Kind::Dict; }
  // Python's numbers: bool is an int subclass, so True is a number too.
  bool is_number() const { return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float; }
  bool is_integral() const { return kind == Kind::Bool || kind == Kind::Int; }
  std::int64_t as_int() const { return kind == Kind::Bool ? (boolean ? 1 : 0) : integer; }
  double as_double() const { return kind == Kind::Float ? number : static_cast<double>(as_int()); }

 private:
  static Value with_kind(Kind k) {
    Value v;
    v.kind = k;
    return v;
  }
};

struct ListObj {
  std::vector<Value> items;
  bool is_tuple = false;
};

// Insertion-ordered mapping. Keys are scalars; `index` maps a key's canonical form (so that 1,
// 1.0 and True are the same key, as in Python) to its position in `entries`.
struct DictObj {
  std::vector<std::pair<Value, Value>> entries;
  std::unordered_map<std::string, std::size_t> index;
  bool is_namespace = false;  // namespace(): attributes may be assigned with `set ns.x = ...`

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(const Value& key, Value value);
  bool erase(const Value& key);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

using NativeFunction = std::function<Value(Interpreter&, CallArgs&)>;

// A callable: a builtin (native), a macro defined by the template, or the `caller` of a call block.
struct FunctionObj {
  std::string name;
  NativeFunction native;
  const Stmt* macro = nullptr;   // {% macro %} or {% call %} statement whose body runs
  bool is_caller = false;        // runs a call block's body in the scope it appeared in
  std::size_t scope_parent = 0;  // frame a caller body's variable lookups continue in
};

// Owns every container of one render.
class Arena {
 public:
  ListObj* new_list();
  DictObj* new_dict();
  FunctionObj* new_function();
  std::size_t objects() const { return lists_.size() + dicts_.size() + functions_.size(); }

 private:
  std::deque<ListObj> lists_;
  std::deque<DictObj> dicts_;
  std::deque<FunctionObj> functions_;
};

// Python semantics over values.
bool truthy(const Value& v);
const char* type_name(const Value& v);  // "str", "int", "list", "dict", ... as Python names them
// Python str(): what `{{ v }}` prints. Undefined prints as "". Nested containers print their
// items with repr(). Throws Error when nesting exceeds `max_depth` (a list that contains itself).
std::string to_display(const Value& v, int max_depth = 256);
std::string to_repr(const Value& v, int max_depth = 256);
std::string format_python_float(double d);
bool values_equal(const Value& a, const Value& b, int max_depth = 256);
// Python's <: numbers, strings, lists/tuples elementwise. Throws Error for unorderable types.
bool value_less(const Value& a, const Value& b, int max_depth = 256);
// Number of items (code points for strings), or throws for values without a length.
std::size_t value_length(const Value& v);

// json.dumps(v, ensure_ascii=False, indent=..., separators=..., sort_keys=...) as Python does it.
struct JsonStyle {
  bool indent_set = false;
  std::string indent;  // per level, when indent_set
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;  // escape every non-ASCII code point as \uXXXX
};
std::string to_json_text(const Value& v, const JsonStyle& style, int max_depth = 256);

Value from_json(const nlohmann::ordered_json& j, Arena& arena);

// UTF-8 helpers used by string filters and methods.
std::vector<std::size_t> utf8_offsets(std::string_view s);  // byte offset of each code point, plus size
bool is_ascii(std::string_view s);

}  // namespace autarky::jinja
