// Jinja features one by one. Each expected string is what Python's jinja2 3.1 renders for the same
// template with Hugging Face's settings (trim_blocks, lstrip_blocks, loopcontrols, their tojson,
// strftime_now fixed to 2026-11-23), checked by hand against jinja2's documented semantics.

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "text/chat_template.h"

namespace autarky {
namespace {

struct FeatureCase {
  const char* group;
  const char* tmpl;
  const char* vars;  // JSON object of top-level variables
  const char* expected;
};

const FeatureCase kCases[] = {
    {"Whitespace", R"~~(  {% if true %}
    indented
  {% endif %}
done)~~",
     R"~~({})~~",
     R"~~(    indented
done)~~"},
    {"Whitespace", R"~~(a  {# c #}
  b
  {%- if true %}
    y
  {%+ endif %}
z)~~",
     R"~~({})~~",
     R"~~(a    b    y
  z)~~"},
    {"Whitespace", R"~~({%- for m in items -%}
  {{ m }}
{% endfor -%}
end)~~",
     R"~~({"items": [1, 2]})~~",
     R"~~(1
2
end)~~"},
    {"Whitespace", R"~~({{- 'x' -}}
   {{ 'y' }}   
   {%- if true %} z {% endif -%}
   w)~~",
     R"~~({})~~",
     R"~~(xy z w)~~"},
    {"Whitespace", R"~~(<{% if true +%}
{% endif %}>)~~",
     R"~~({})~~",
     R"~~(<
>)~~"},
    {"Whitespace", R"~~(line
)~~",
     R"~~({})~~",
     R"~~(line)~~"},
    {"Whitespace", R"~~(a
b)~~",
     R"~~({})~~",
     R"~~(a
b)~~"},
    {"Whitespace", R"~~({% raw %}  {{ x }} {% endraw %})~~",
     R"~~({})~~",
     R"~~(  {{ x }} )~~"},
    {"Whitespace", R"~~(x {% if true %}y{% endif %} z)~~",
     R"~~({})~~",
     R"~~(x y z)~~"},
    {"Loop", R"~~({% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %})~~",
     R"~~({"items": ["a", "b", "c"]})~~",
     R"~~(1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;)~~"},
    {"Loop", R"~~({% for x in items %}{{ loop.cycle('odd', 'even') }}{{ loop.previtem }}>{{ loop.nextitem }} {% endfor %})~~",
     R"~~({"items": ["a", "b", "c"]})~~",
     R"~~(odd>b evena>c oddb> )~~"},
    {"Loop", R"~~({% for x in items if x != 'b' %}{{ loop.index }}/{{ loop.length }}{{ x }} {% else %}none{% endfor %})~~",
     R"~~({"items": ["a", "b", "c"]})~~",
     R"~~(1/2a 2/2c )~~"},
    {"Loop", R"~~({% for x in [] %}x{% else %}empty{% endfor %})~~",
     R"~~({})~~",
     R"~~(empty)~~"},
    {"Loop", R"~~({% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}{% for k in d %}{{ k }}{% endfor %})~~",
     R"~~({"d": {"z": 1, "a": [2]}})~~",
     R"~~(z=1,a=[2],za)~~"},
    {"Loop", R"~~({% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %})~~",
     R"~~({})~~",
     R"~~(0134)~~"},
    {"Loop", R"~~({% set x = 0 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }})~~",
     R"~~({})~~",
     R"~~(0120)~~"},
    {"Loop", R"~~({% for c in 'héllo' %}{{ c }}.{% endfor %})~~",
     R"~~({})~~",
     R"~~(h.é.l.l.o.)~~"},
    {"Loop", R"~~({% for a, b in [(1, 2), [3, 4]] %}{{ a + b }} {% endfor %})~~",
     R"~~({})~~",
     R"~~(3 7 )~~"},
    {"Scope", R"~~({% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }})~~",
     R"~~({})~~",
     R"~~(6 True)~~"},
    {"Scope", R"~~({% if true %}{% set y = 1 %}{% endif %}{{ y }}{% for i in [1] %}{% set z = 2 %}{% endfor %}[{{ z }}])~~",
     R"~~({})~~",
     R"~~(1[])~~"},
    {"Scope", R"~~({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}])~~",
     R"~~({})~~",
     R"~~(3[])~~"},
    {"Macro", R"~~({% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }})~~",
     R"~~({})~~",
     R"~~(Hello a! Hello b? Hello c.)~~"},
    {"Macro", R"~~({% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(5) }})~~",
     R"~~({})~~",
     R"~~(54321)~~"},
    {"Macro", R"~~({% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3, 4, z=5) }})~~",
     R"~~({})~~",
     R"~~(1-2-()-{}|1-3-(4,)-{'z': 5})~~"},
    {"Macro", R"~~({% macro m(a) %}<{{ caller(a) }}>{% endmacro %}{% call(x) m(5) %}[{{ x }}]{% endcall %})~~",
     R"~~({})~~",
     R"~~(<[5]>)~~"},
    {"Macro", R"~~({% set x = 5 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }})~~",
     R"~~({})~~",
     R"~~(6)~~"},
    {"Set", R"~~({% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (1,) %}{{ t }}{% set c = [1, 2, 3] %}{{ c[-1] }}{{ c[1:] }}{{ c[:-1] }}{{ c[::2] }}{{ c[::-1] }}{{ c[5:] }})~~",
     R"~~({})~~",
     R"~~(12(1,)3[2, 3][1, 2][1, 3][3, 2, 1][])~~"},
    {"Set", R"~~({% set content %}Hello {{ name }}{% endset %}[{{ content }}]{% set up | upper %}shout{% endset %}{{ up }})~~",
     R"~~({"name": "Bob"})~~",
     R"~~([Hello Bob]SHOUT)~~"},
    {"Set", R"~~({% filter upper %}abc{{ 1 }}{% endfilter %})~~",
     R"~~({})~~",
     R"~~(ABC1)~~"},
    {"Expr", R"~~({{ [1, 'a', none, true, 1.0, {'a': (1, 2)}] }}|{{ 1 / 2 }}|{{ 4 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 1e3 }}|{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 1.5e-7 }})~~",
     R"~~({})~~",
     R"~~([1, 'a', None, True, 1.0, {'a': (1, 2)}]|0.5|2.0|3|-4|2|1024|1000.0|0.30000000000000004|1e+20|1.5e-07)~~"},
    {"Expr", R"~~({{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ -3 | abs }}|{{ not 1 == 2 }}|{{ 1 < 2 < 3 }}|{{ 10 - 2 - 3 }}|{{ 'x' ~ 1 ~ none ~ true }}|{{ 'a' + 'b' | upper }})~~",
     R"~~({})~~",
     R"~~(4|64|3|True|True|5|x1NoneTrue|aB)~~"},
    {"Expr", R"~~({{ 1 == 1.0 }}|{{ true == 1 }}|{{ '1' == 1 }}|{{ [1, 2] == [1, 2] }}|{{ {'a': 1} == {'a': 1} }}|{{ 'b' > 'a' }}|{{ [1, 2] < [1, 3] }})~~",
     R"~~({})~~",
     R"~~(True|True|False|True|True|True|True)~~"},
    {"Expr", R"~~({{ 'a' in 'cat' }}|{{ 1 in [1, 2] }}|{{ 'k' in d }}|{{ 'x' not in d }}|{{ 1 if false }}|{{ 1 if true else 2 }}|{{ 'a' if none else 'b' }})~~",
     R"~~({"d": {"k": 1}})~~",
     R"~~(True|True|True|True||1|b)~~"},
    {"Expr", R"~~({{ 'it''s' }}|{{ "a\tb" }}|{{ 'q\'q' }}|{{ "\u4e2d\x41" }}|{{ 0x1F }}|{{ 1_000 }})~~",
     R"~~({})~~",
     R"~~(its|a	b|q'q|中A|31|1000)~~"},
    {"Expr", R"~~({{ none }}|{{ True }}|{{ false }}|{{ 1.0 }}|{{ 1e100 }}|{{ 3.0e-5 }}|{{ 123456789.125 }}|{{ d }}|{{ s }})~~",
     R"~~({"d": {"a": "it's", "b": [null, false]}, "s": ["x\ny"]})~~",
     R"~~(None|True|False|1.0|1e+100|3e-05|123456789.125|{'a': "it's", 'b': [None, False]}|['x\ny'])~~"},
    {"Expr", R"~~({{ 'abc'[0] }}|{{ 'abc'[-1] }}|{{ '中文字'[1] }}|{{ '中文字' | length }}|{{ '中文字'[::-1] }}|{{ 'héllo'[1:3] }})~~",
     R"~~({})~~",
     R"~~(a|c|文|3|字文中|él)~~"},
    {"Tests", R"~~({{ 4 is even }}|{{ 3 is odd }}|{{ 9 is divisibleby 3 }}|{{ 9 is divisibleby(4) }}|{{ 's' is string }}|{{ true is number }}|{{ true is integer }}|{{ {} is mapping }}|{{ 'x' is iterable }}|{{ 1 is iterable }}|{{ none is none }}|{{ 1.5 is float }}|{{ 0 is false }}|{{ false is false }}|{{ 2 is eq 2 }}|{{ x is not defined }})~~",
     R"~~({})~~",
     R"~~(True|True|True|False|True|True|False|True|True|False|True|True|False|True|True|True)~~"},
    {"Undefined", R"~~({{ x }}|{{ x | length }}|{{ x is defined }}|{{ x | default('dflt') }}|{{ none | default('n') }}|{{ '' | default('e', true) }}|{{ d.missing }}|{{ d.missing is defined }}|{{ l[10] is defined }}|{% for i in x %}never{% endfor %}|{{ x ~ 'a' }}|{{ 'a' in x }})~~",
     R"~~({"d": {}, "l": [1]})~~",
     R"~~(|0|False|dflt|None|e||False|False||a|False)~~"},
    {"Filters", R"~~({{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Hello World' | lower }}|{{ 'hi' | upper }}|{{ 'hello wORLD' | title }}|{{ 'hELLO' | capitalize }}|{{ 'aXbX' | replace('X', '--') }}|{{ 'aXbX' | replace('X', '', 1) }})~~",
     R"~~({})~~",
     R"~~(x|hi|hello world|HI|Hello World|Hello|a--b--|abX)~~"},
    {"Filters", R"~~({{ [3, 1, 2] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ ['b', 'A', 'c'] | sort }}|{{ [1, 2, 2, 3, 1] | unique | list }}|{{ [1, 2, 3] | reverse | list }}|{{ [1, 2, 3] | first }}|{{ [1, 2, 3] | last }}|{{ [1, 2, 3] | sum }}|{{ [1, 5, 2] | max }}|{{ [4, 1, 2] | min }}|{{ [1, 2] | join('-') }}|{{ 'abc' | list }})~~",
     R"~~({})~~",
     R"~~([1, 2, 3]|[3, 2, 1]|['A', 'b', 'c']|[1, 2, 3]|[3, 2, 1]|1|3|6|5|1|1-2|['a', 'b', 'c'])~~"},
    {"Filters", R"~~({{ 3.7 | round }}|{{ 3.14159 | round(2) }}|{{ 2.5 | round }}|{{ 3.5 | int }}|{{ '4' | int + 1 }}|{{ 'x' | int }}|{{ 1 | float }}|{{ '2.5' | float }}|{{ -5 | abs }}|{{ '3.9' | int }}|{{ 5 | round }})~~",
     R"~~({})~~",
     R"~~(4.0|3.14|2.0|3|5|0|1.0|2.5|5|3|5)~~"},
    {"Filters", R"~~({{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb\n' | indent(2, true) }}|{{ 'a\nb\n\nc' | indent(2, blank=true) }}|{{ 'hello world  x' | wordcount }}|{{ {'b': 1, 'a': 2} | dictsort }}|{{ '<a>&' | e }}|{{ '%s and %05.1f' | format('x', 2.25) }})~~",
     R"~~({})~~",
     R"~~(a
  b

  c|  a
  b
|a
  b
  
  c|3|[('a', 2), ('b', 1)]|&lt;a&gt;&amp;|x and 002.2)~~"},
    {"Filters", R"~~({{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(', ') }}|{{ msgs | rejectattr('role', 'eq', 'user') | list | length }}|{{ msgs | selectattr('tool_calls', 'defined') | list | length }}|{{ msgs | map(attribute='role') | list }}|{{ msgs | map(attribute='nope', default='?') | list }}|{{ [1, 2] | map('string') | list }}|{{ [0, 1, '', 'a'] | select | list }}|{{ [1, 2, 3, 4] | reject('even') | list }})~~",
     R"~~({"msgs": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": []}, {"role": "user", "content": "c"}]})~~",
     R"~~(a, c|1|1|['user', 'assistant', 'user']|['?', '?', '?']|['1', '2']|[1, 'a']|[1, 3])~~"},
    {"Filters", R"~~({{ d | items | list }}|{{ d | length }}|{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é"\\\n\t\u0001' | tojson }})~~",
     R"~~({"d": {"b": [1, 2.5, null, true], "a": {"x": "é"}, "e": {}, "f": []}})~~",
     R"~~([('b', [1, 2.5, None, True]), ('a', {'x': 'é'}), ('e', {}), ('f', [])]|4|{"b": [1, 2.5, null, true], "a": {"x": "é"}, "e": {}, "f": []}|{
  "b": [
    1,
    2.5,
    null,
    true
  ],
  "a": {
    "x": "é"
  },
  "e": {},
  "f": []
}|{"a": {"x": "é"}, "b": [1, 2.5, null, true], "e": {}, "f": []}|"\u00e9"|{"b":[1,2.5,null,true],"a":{"x":"é"},"e":{},"f":[]}|"é\"\\\n\t\u0001")~~"},
    {"Methods", R"~~({{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a.b.c'.rsplit('.', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ '  hi '.strip() }}|{{ 'xxhix'.lstrip('x') }}|{{ 'hixx'.rstrip('x') }}|{{ '\n\nhi\n'.lstrip('\n') }})~~",
     R"~~({})~~",
     R"~~(['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a.b', 'c']|True|True|hi|hix|hi|hi
)~~"},
    {"Methods", R"~~({{ 'hello'.find('l') }}|{{ 'héllo'.find('l') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.count('l') }}|{{ 'hello'.replace('l', 'L', 1) }}|{{ '{} and {}'.format(1, 'x') }}|{{ '{0}{name}'.format(7, name='n') }}|{{ '-'.join(['a', 'b']) }}|{{ 'Hello'.upper() }}|{{ 'Hello'.lower() }}|{{ 'hello world'.title() }}|{{ '%s-%d' % ('a', 3) }})~~",
     R"~~({})~~",
     R"~~(2|2|3|2|heLlo|1 and x|7n|a-b|HELLO|hello|Hello World|a-3)~~"},
    {"Methods", R"~~({{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 5) }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.items() | list }}|{{ [1, 2, 3].index(2) }}|{{ [1, 1, 2].count(1) }})~~",
     R"~~({"d": {"a": 1, "b": [1, 2]}})~~",
     R"~~(1|None|5|['a', 'b']|[1, [1, 2]]|[('a', 1), ('b', [1, 2])]|1|2)~~"},
    {"Globals", R"~~({{ range(5) | list }}|{{ range(1, 10, 3) | list }}|{{ range(5, 0, -2) | list }}|{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}|{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %B %j') }})~~",
     R"~~({})~~",
     R"~~([0, 1, 2, 3, 4]|[1, 4, 7]|[5, 3, 1]|{'a': 1, 'b': 'x'}|1|23 Nov 2026|Monday November 327)~~"},
};

TEST(JinjaFeatures, RenderLikeJinja2) {
  int index = 0;
  for (const auto& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "case " << index++ << " (" << c.group << "): " << c.tmpl);
    ChatTemplateOptions options;
    options.extra_context = nlohmann::ordered_json::parse(c.vars);
    options.now = make_date(2026, 11, 23);
    EXPECT_EQ(render_chat_template(c.tmpl, nlohmann::ordered_json::array(), options), c.expected);
  }
}

}  // namespace
}  // namespace autarky
