// `autarky keys create|list|policy|revoke|usage --db PATH`: the admin side of the tenant ledger
// (src/tenants/ledger.h). Secrets are printed once, by `create`; nothing else can show them.
// `create` and `policy` also set the key's label/watermark policy (key_policy_flags.h).

#include <fmt/format.h>

#include <charconv>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "command.h"
#include "key_policy_flags.h"
#include "tenants/api_key.h"
#include "tenants/ledger.h"

namespace autarky::cli {
namespace {

using tenants::KeyInfo;
using tenants::KeyUsage;
using tenants::Ledger;
using tenants::UsageTotals;

std::string utc_text(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return fmt::format("@{}", unix_seconds);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string limit_text(std::uint64_t value) { return value == 0 ? "-" : std::to_string(value); }

void check_key_id(const std::string& id) {
  if (!tenants::is_key_id(id)) fail("'{}' is not a key id (12 lowercase hex digits, as `autarky keys list` shows)", id);
}

nlohmann::json limits_json(const tenants::KeyLimits& limits) {
  // 0 (unlimited) becomes null so a script cannot mistake it for a zero budget.
  auto value = [](std::uint64_t v) { return v == 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"tokens_per_day", value(limits.tokens_per_day)},
          {"tokens_per_month", value(limits.tokens_per_month)},
          {"requests_per_minute", value(limits.requests_per_minute)},
          {"max_concurrent", value(limits.max_concurrent)}};
}

nlohmann::json totals_json(const UsageTotals& totals) {
  return {{"requests", totals.requests},
          {"prompt_tokens", totals.prompt_tokens},
          {"completion_tokens", totals.completion_tokens},
          {"total_tokens", totals.tokens()}};
}

nlohmann::json key_json(const KeyInfo& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"limits", limits_json(key.limits)},
          {"policy", key.policy.to_json()},
          {"created_at", utc_text(key.created_at)},
          {"revoked_at", key.revoked_at ? nlohmann::json(utc_text(*key.revoked_at)) : nlohmann::json(nullptr)}};
}

// Numbers and required options are checked here rather than by CLI11, so every bad argument
// ends as "error: ..." with exit status 1, like the rest of the CLI's input errors.
struct CreateArgs {
  std::string db, name;
  std::string tokens_per_day, tokens_per_month, rpm, max_concurrent;
  KeyPolicyFlags policy;
  bool json = false;
};

// The policy takes effect in the server; the watermark also needs the server's key.
void note_watermark(const tenants::KeyPolicy& policy) {
  if (policy.watermark.value_or(false))
    fmt::print(stderr, "note: the watermark needs `autarky serve --watermark-key KEYFILE`; a server without one "
                       "serves this key unwatermarked and logs a warning\n");
}

std::uint64_t parse_limit(std::string_view flag, const std::string& text) {
  if (text.empty()) return 0;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    fail("{}: '{}' is not a non-negative integer (0 = unlimited)", flag, text);
  return value;
}

void require(std::string_view flag, const std::string& value) {
  if (value.empty()) fail("keys: {} is required", flag);
}

void reject_extras(const CLI::App* cmd) {
  if (!cmd->remaining().empty()) fail("keys {}: unexpected argument '{}'", cmd->get_name(), cmd->remaining().front());
}

int run_create(const CreateArgs& args) {
  require("--db", args.db);
  require("--name", args.name);
  tenants::KeyLimits limits;
  limits.tokens_per_day = parse_limit("--tokens-per-day", args.tokens_per_day);
  limits.tokens_per_month = parse_limit("--tokens-per-month", args.tokens_per_month);
  limits.requests_per_minute = parse_limit("--rpm", args.rpm);
  limits.max_concurrent = parse_limit("--max-concurrent", args.max_concurrent);
  tenants::KeyPolicy policy = apply_key_policy_flags(args.policy, {});
  Ledger ledger(args.db, tenants::OpenMode::kCreateIfMissing);
  tenants::NewKey created = ledger.create_key(args.name, limits, tenants::Clock::now(), policy);
  note_watermark(policy);
  if (args.json) {
    nlohmann::json out = key_json(created.key);
    out["secret"] = created.secret;
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("id:     {}\nname:   {}\npolicy: {}\nsecret: {}\n", created.key.id, created.key.name,
             created.key.policy.summary(), created.secret);
  fmt::print(stderr, "The secret is shown only this once (the ledger keeps only its SHA-256): store it now.\n");
  return 0;
}

int run_list(const std::string& db, bool json) {
  require("--db", db);
  Ledger ledger(db, tenants::OpenMode::kMustExist);
  auto now = tenants::Clock::now();
  std::vector<KeyInfo> keys = ledger.list_keys();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const KeyInfo& key : keys) {
      KeyUsage usage = ledger.usage(key.id, now);
      nlohmann::json entry = key_json(key);
      entry["tokens_today"] = usage.today.tokens();
      entry["tokens_this_month"] = usage.this_month.tokens();
      out.push_back(std::move(entry));
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("{:<12}  {:<16}  {:>10}  {:>12}  {:>6}  {:>4}  {:<20}  {:<20}  {:>10}  {:>12}  {}\n", "ID", "NAME",
             "TOK/DAY", "TOK/MONTH", "RPM", "CONC", "CREATED", "REVOKED", "USED TODAY", "USED MONTH", "POLICY");
  for (const KeyInfo& key : keys) {
    KeyUsage usage = ledger.usage(key.id, now);
    fmt::print("{:<12}  {:<16}  {:>10}  {:>12}  {:>6}  {:>4}  {:<20}  {:<20}  {:>10}  {:>12}  {}\n", key.id, key.name,
               limit_text(key.limits.tokens_per_day), limit_text(key.limits.tokens_per_month),
               limit_text(key.limits.requests_per_minute), limit_text(key.limits.max_concurrent),
               utc_text(key.created_at), key.revoked_at ? utc_text(*key.revoked_at) : "-", usage.today.tokens(),
               usage.this_month.tokens(), key.policy.summary());
  }
  if (keys.empty()) fmt::print(stderr, "no keys yet: `autarky keys create --db {} --name NAME`\n", db);
  return 0;
}

int run_policy(const std::string& db, const std::string& id, const KeyPolicyFlags& flags, bool json) {
  require("--db", db);
  require("the key id", id);
  check_key_id(id);
  Ledger ledger(db, tenants::OpenMode::kMustExist);
  auto key = ledger.find_key(id);
  if (!key) fail("{}: no key with id '{}'", db, id);
  KeyInfo updated = ledger.set_key_policy(id, apply_key_policy_flags(flags, key->policy));
  note_watermark(updated.policy);
  if (json) fmt::print("{}\n", key_json(updated).dump());
  else fmt::print("{}: policy {}\n", id, updated.policy.summary());
  return 0;
}

int run_revoke(const std::string& db, const std::string& id) {
  require("--db", db);
  require("the key id", id);
  check_key_id(id);
  Ledger ledger(db, tenants::OpenMode::kMustExist);
  if (ledger.revoke_key(id, tenants::Clock::now())) {
    fmt::print("revoked {}\n", id);
  } else {
    auto key = ledger.find_key(id);
    fmt::print("{} was already revoked at {}\n", id, utc_text(key && key->revoked_at ? *key->revoked_at : 0));
  }
  return 0;
}

int run_usage(const std::string& db, const std::string& id, bool json) {
  require("--db", db);
  if (!id.empty()) check_key_id(id);
  Ledger ledger(db, tenants::OpenMode::kMustExist);
  auto now = tenants::Clock::now();
  std::vector<KeyInfo> keys;
  if (id.empty()) {
    keys = ledger.list_keys();
  } else {
    auto key = ledger.find_key(id);
    if (!key) fail("{}: no key with id '{}'", db, id);
    keys.push_back(*key);
  }
  nlohmann::json out = nlohmann::json::array();
  if (!json)
    fmt::print("{:<12}  {:<16}  {:<6}  {:>9}  {:>13}  {:>17}  {:>12}\n", "ID", "NAME", "PERIOD", "REQUESTS",
               "PROMPT TOKENS", "COMPLETION TOKENS", "TOTAL TOKENS");
  for (const KeyInfo& key : keys) {
    KeyUsage usage = ledger.usage(key.id, now);
    if (json) {
      out.push_back({{"id", key.id},
                     {"name", key.name},
                     {"today", totals_json(usage.today)},
                     {"this_month", totals_json(usage.this_month)},
                     {"all_time", totals_json(usage.all_time)}});
      continue;
    }
    for (auto [period, totals] : {std::pair{"today", usage.today}, std::pair{"month", usage.this_month},
                                  std::pair{"all", usage.all_time}}) {
      fmt::print("{:<12}  {:<16}  {:<6}  {:>9}  {:>13}  {:>17}  {:>12}\n", key.id, key.name, period, totals.requests,
                 totals.prompt_tokens, totals.completion_tokens, totals.tokens());
    }
  }
  if (json) fmt::print("{}\n", out.dump(2));
  return 0;
}

const RegisterCommand kKeys{
    "keys", "Manage API keys and see their usage (create, list, policy, revoke, usage)", [](CLI::App& app) {
      auto create = std::make_shared<CreateArgs>();
      CLI::App* create_cmd = app.add_subcommand("create", "Make a new API key; prints its secret once");
      create_cmd->add_option("--db", create->db, "Ledger database (created if missing)");
      create_cmd->add_option("--name", create->name, "Label for the key (tenant, team, ...)");
      create_cmd->add_option("--tokens-per-day", create->tokens_per_day, "Prompt+completion tokens per UTC day (0 = unlimited)");
      create_cmd->add_option("--tokens-per-month", create->tokens_per_month, "Tokens per UTC calendar month (0 = unlimited)");
      create_cmd->add_option("--rpm", create->rpm, "Requests per minute (0 = unlimited)");
      create_cmd->add_option("--max-concurrent", create->max_concurrent, "Requests running at once (0 = unlimited)");
      add_key_policy_flags(*create_cmd, create->policy);
      create_cmd->add_flag("--json", create->json, "Print the new key as JSON");

      auto db = std::make_shared<std::string>();
      auto id = std::make_shared<std::string>();
      auto json = std::make_shared<bool>(false);
      CLI::App* list_cmd = app.add_subcommand("list", "List keys with limits and usage (never secrets)");
      list_cmd->add_option("--db", *db, "Ledger database");
      list_cmd->add_flag("--json", *json, "Print JSON");
      auto policy = std::make_shared<KeyPolicyFlags>();
      CLI::App* policy_cmd =
          app.add_subcommand("policy", "Change a key's label/watermark policy (flags not given stay as they are)");
      policy_cmd->add_option("--db", *db, "Ledger database");
      policy_cmd->add_option("id", *id, "Key id");
      add_key_policy_flags(*policy_cmd, *policy);
      policy_cmd->add_flag("--json", *json, "Print the key as JSON");
      CLI::App* revoke_cmd = app.add_subcommand("revoke", "Revoke a key: it stops authenticating at once");
      revoke_cmd->add_option("--db", *db, "Ledger database");
      revoke_cmd->add_option("id", *id, "Key id");
      CLI::App* usage_cmd = app.add_subcommand("usage", "Token usage today, this month and in total");
      usage_cmd->add_option("--db", *db, "Ledger database");
      usage_cmd->add_option("id", *id, "Key id (default: all keys)");
      usage_cmd->add_flag("--json", *json, "Print JSON");
      for (CLI::App* cmd : {create_cmd, list_cmd, policy_cmd, revoke_cmd, usage_cmd}) cmd->allow_extras();

      return [=]() -> int {
        for (CLI::App* cmd : {create_cmd, list_cmd, policy_cmd, revoke_cmd, usage_cmd}) {
          if (cmd->parsed()) reject_extras(cmd);
        }
        if (create_cmd->parsed()) return run_create(*create);
        if (list_cmd->parsed()) return run_list(*db, *json);
        if (policy_cmd->parsed()) return run_policy(*db, *id, *policy, *json);
        if (revoke_cmd->parsed()) return run_revoke(*db, *id);
        if (usage_cmd->parsed()) return run_usage(*db, *id, *json);
        fail("keys: expected a subcommand (create, list, policy, revoke, usage)");
      };
    }};

}  // namespace
}  // namespace autarky::cli
