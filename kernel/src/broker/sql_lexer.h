// SqlLexer: tokens of RocketMQ's SQL92 property-filter subset (identifiers, 'strings',
// numbers, keywords, comparison operators, parentheses, commas).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mq/status.h"

namespace mq::kernel::sql {

enum class TokenKind {
  kIdent,
  kString,
  kInteger,
  kDecimal,
  kAnd,
  kOr,
  kNot,
  kTrue,
  kFalse,
  kIs,
  kNull,
  kIn,
  kBetween,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMinus,
  kPlus,
  kLParen,
  kRParen,
  kComma,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;        // identifier name, unquoted string, or the literal as written
  int64_t integer = 0;     // kInteger
  double decimal = 0;      // kDecimal
  size_t position = 0;     // 1-based character position in the expression
};

// Readable name of a token for error messages ("'AND'", "identifier 'a'", "end of expression").
std::string describe(const Token& token);

// SUBSCRIPTION_PARSE_FAILED: "SQL92 filter '<expression>' does not parse at position N: <problem>".
Status parse_error(std::string_view expression, size_t position, const std::string& problem);

// Splits `expression` into tokens ending with kEnd. Keywords are case-insensitive; '' inside
// a string is one quote. SUBSCRIPTION_PARSE_FAILED names the position and the problem.
Result<std::vector<Token>> tokenize(std::string_view expression);

}  // namespace mq::kernel::sql
