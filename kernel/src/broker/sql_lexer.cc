// SqlLexer: hand-written scanner for the SQL92 filter subset.
#include "broker/sql_lexer.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>

namespace mq::kernel::sql {
namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool ident_part(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

TokenKind keyword_or_ident(std::string_view word) {
  const std::string u = upper(word);
  if (u == "AND") return TokenKind::kAnd;
  if (u == "OR") return TokenKind::kOr;
  if (u == "NOT") return TokenKind::kNot;
  if (u == "TRUE") return TokenKind::kTrue;
  if (u == "FALSE") return TokenKind::kFalse;
  if (u == "IS") return TokenKind::kIs;
  if (u == "NULL") return TokenKind::kNull;
  if (u == "IN") return TokenKind::kIn;
  if (u == "BETWEEN") return TokenKind::kBetween;
  return TokenKind::kIdent;
}

}  // namespace

Status parse_error(std::string_view expression, size_t position, const std::string& problem) {
  return Status(Code::kSubscriptionParseFailed, "SQL92 filter '" + std::string(expression) +
                                                    "' does not parse at position " + std::to_string(position) +
                                                    ": " + problem);
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kIdent: return "identifier '" + t.text + "'";
    case TokenKind::kString: return "string '" + t.text + "'";
    case TokenKind::kInteger:
    case TokenKind::kDecimal: return "number " + t.text;
    case TokenKind::kEnd: return "end of expression";
    default: return "'" + t.text + "'";
  }
}

Result<std::vector<Token>> tokenize(std::string_view expr) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    Token t;
    t.position = i + 1;
    if (i == expr.size()) {
      out.push_back(std::move(t));
      return out;
    }
    const char c = expr[i];
    if (ident_start(c)) {
      size_t end = i + 1;
      while (end < expr.size() && ident_part(expr[end])) ++end;
      t.text = std::string(expr.substr(i, end - i));
      t.kind = keyword_or_ident(t.text);
      if (t.kind != TokenKind::kIdent) t.text = upper(t.text);
      i = end;
    } else if (c == '\'') {
      size_t j = i + 1;
      bool closed = false;
      while (j < expr.size()) {
        if (expr[j] == '\'') {
          if (j + 1 < expr.size() && expr[j + 1] == '\'') {
            t.text += '\'';
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        t.text += expr[j++];
      }
      if (!closed) return parse_error(expr, t.position, "string literal is not closed; add the closing quote (')");
      t.kind = TokenKind::kString;
      i = j;
    } else if (digit(c) || (c == '.' && i + 1 < expr.size() && digit(expr[i + 1]))) {
      size_t end = i;
      bool decimal = false;
      while (end < expr.size() && digit(expr[end])) ++end;
      if (end < expr.size() && expr[end] == '.') {
        decimal = true;
        ++end;
        while (end < expr.size() && digit(expr[end])) ++end;
      }
      if (end < expr.size() && (expr[end] == 'e' || expr[end] == 'E')) {
        size_t e = end + 1;
        if (e < expr.size() && (expr[e] == '+' || expr[e] == '-')) ++e;
        if (e < expr.size() && digit(expr[e])) {
          decimal = true;
          end = e;
          while (end < expr.size() && digit(expr[end])) ++end;
        }
      }
      if (end < expr.size() && ident_part(expr[end]))
        return parse_error(expr, end + 1,
                           "unexpected character '" + std::string(1, expr[end]) + "' after number " +
                               std::string(expr.substr(i, end - i)));
      t.text = std::string(expr.substr(i, end - i));
      if (decimal) {
        t.kind = TokenKind::kDecimal;
        errno = 0;
        char* stop = nullptr;
        t.decimal = std::strtod(t.text.c_str(), &stop);
        if (errno == ERANGE) return parse_error(expr, t.position, "number " + t.text + " is out of range");
      } else {
        t.kind = TokenKind::kInteger;
        auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.integer);
        if (ec != std::errc() || ptr != t.text.data() + t.text.size())
          return parse_error(expr, t.position, "integer " + t.text + " is out of the 64-bit range");
      }
      i = end;
    } else {
      auto two = expr.substr(i, 2);
      if (two == "<>" || two == "!=") {
        t.kind = TokenKind::kNe;
      } else if (two == "<=") {
        t.kind = TokenKind::kLe;
      } else if (two == ">=") {
        t.kind = TokenKind::kGe;
      }
      if (t.kind != TokenKind::kEnd) {
        t.text = std::string(two);
        i += 2;
      } else {
        switch (c) {
          case '=': t.kind = TokenKind::kEq; break;
          case '<': t.kind = TokenKind::kLt; break;
          case '>': t.kind = TokenKind::kGt; break;
          case '-': t.kind = TokenKind::kMinus; break;
          case '+': t.kind = TokenKind::kPlus; break;
          case '(': t.kind = TokenKind::kLParen; break;
          case ')': t.kind = TokenKind::kRParen; break;
          case ',': t.kind = TokenKind::kComma; break;
          case '"':
            return parse_error(expr, t.position, "double quotes are not string delimiters; write strings as 'text'");
          default:
            return parse_error(expr, t.position, "unexpected character '" + std::string(1, c) + "'");
        }
        t.text = std::string(1, c);
        ++i;
      }
    }
    out.push_back(std::move(t));
  }
}

}  // namespace mq::kernel::sql
