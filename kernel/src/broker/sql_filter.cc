// SqlFilter: recursive-descent parser (OR < AND < NOT < predicate) and three-valued evaluator.
#include "broker/sql_filter.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "broker/sql_lexer.h"

namespace mq::kernel {

using sql::Token;
using sql::TokenKind;

namespace {

constexpr int kMaxDepth = 100;

enum class Tri { kFalse, kTrue, kUnknown };

Tri tri_not(Tri v) {
  if (v == Tri::kUnknown) return v;
  return v == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
}
Tri tri_and(Tri a, Tri b) {
  if (a == Tri::kFalse || b == Tri::kFalse) return Tri::kFalse;
  if (a == Tri::kUnknown || b == Tri::kUnknown) return Tri::kUnknown;
  return Tri::kTrue;
}
Tri tri_or(Tri a, Tri b) {
  if (a == Tri::kTrue || b == Tri::kTrue) return Tri::kTrue;
  if (a == Tri::kUnknown || b == Tri::kUnknown) return Tri::kUnknown;
  return Tri::kFalse;
}

struct Operand {
  enum class Kind { kProperty, kString, kInteger, kDecimal, kBool } kind = Kind::kString;
  std::string text;  // property name or string literal
  int64_t integer = 0;
  double decimal = 0;
  bool boolean = false;
};

// A resolved operand: literals as they are, a property as its text (or NULL).
struct Value {
  enum class Kind { kNull, kString, kPropertyText, kInteger, kDecimal, kBool } kind = Kind::kNull;
  std::string_view text;
  int64_t integer = 0;
  double decimal = 0;
  bool boolean = false;
};

struct Number {
  bool is_integer = true;
  int64_t integer = 0;
  double decimal = 0;
  double as_double() const { return is_integer ? static_cast<double>(integer) : decimal; }
};

std::optional<Number> property_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  Number n;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n.integer);
  if (ec == std::errc() && ptr == s.data() + s.size()) return n;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
      return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  n.is_integer = false;
  n.decimal = d;
  return n;
}

std::optional<Number> as_number(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInteger: return Number{true, v.integer, 0};
    case Value::Kind::kDecimal: return Number{false, 0, v.decimal};
    case Value::Kind::kPropertyText: return property_number(v.text);
    default: return std::nullopt;
  }
}

std::optional<bool> as_bool(const Value& v) {
  if (v.kind == Value::Kind::kBool) return v.boolean;
  if (v.kind != Value::Kind::kPropertyText) return std::nullopt;
  std::string u(v.text);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "TRUE") return true;
  if (u == "FALSE") return false;
  return std::nullopt;
}

bool is_text(const Value& v) { return v.kind == Value::Kind::kString || v.kind == Value::Kind::kPropertyText; }

// <0, 0, >0 as a three-way result mapped through the operator.
Tri apply(TokenKind op, int cmp) {
  bool r = false;
  switch (op) {
    case TokenKind::kEq: r = cmp == 0; break;
    case TokenKind::kNe: r = cmp != 0; break;
    case TokenKind::kLt: r = cmp < 0; break;
    case TokenKind::kLe: r = cmp <= 0; break;
    case TokenKind::kGt: r = cmp > 0; break;
    case TokenKind::kGe: r = cmp >= 0; break;
    default: return Tri::kUnknown;
  }
  return r ? Tri::kTrue : Tri::kFalse;
}

Tri compare(TokenKind op, const Value& l, const Value& r) {
  if (l.kind == Value::Kind::kNull || r.kind == Value::Kind::kNull) return Tri::kUnknown;
  if (l.kind == Value::Kind::kString || r.kind == Value::Kind::kString) {
    if (!is_text(l) || !is_text(r)) return Tri::kUnknown;
    int c = l.text.compare(r.text);
    return apply(op, c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (l.kind == Value::Kind::kBool || r.kind == Value::Kind::kBool) {
    auto a = as_bool(l);
    auto b = as_bool(r);
    if (!a || !b || (op != TokenKind::kEq && op != TokenKind::kNe)) return Tri::kUnknown;
    return apply(op, *a == *b ? 0 : 1);
  }
  auto a = as_number(l);
  auto b = as_number(r);
  if (a && b) {
    if (a->is_integer && b->is_integer)
      return apply(op, a->integer < b->integer ? -1 : (a->integer > b->integer ? 1 : 0));
    double x = a->as_double();
    double y = b->as_double();
    return apply(op, x < y ? -1 : (x > y ? 1 : 0));
  }
  if (l.kind == Value::Kind::kPropertyText && r.kind == Value::Kind::kPropertyText) {
    int c = l.text.compare(r.text);
    return apply(op, c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  return Tri::kUnknown;
}

}  // namespace

struct SqlFilter::Node {
  enum class Kind { kAnd, kOr, kNot, kCompare, kIsNull, kIn, kBetween, kConst } kind = Kind::kConst;
  std::unique_ptr<Node> lhs, rhs;  // kAnd, kOr (both), kNot (lhs)
  TokenKind op = TokenKind::kEq;   // kCompare
  Operand a, b, c;                 // kCompare (a op b), kIsNull (a), kIn (a), kBetween (a BETWEEN b AND c)
  std::vector<Operand> list;       // kIn
  bool negated = false;            // IS NOT NULL, NOT IN, NOT BETWEEN
  bool value = false;              // kConst

  static Value resolve(const Operand& o, const StoredMessage& msg) {
    Value v;
    switch (o.kind) {
      case Operand::Kind::kProperty: {
        auto it = msg.properties.find(o.text);
        if (it != msg.properties.end()) {
          v.kind = Value::Kind::kPropertyText;
          v.text = it->second;
        }
        break;
      }
      case Operand::Kind::kString: v.kind = Value::Kind::kString, v.text = o.text; break;
      case Operand::Kind::kInteger: v.kind = Value::Kind::kInteger, v.integer = o.integer; break;
      case Operand::Kind::kDecimal: v.kind = Value::Kind::kDecimal, v.decimal = o.decimal; break;
      case Operand::Kind::kBool: v.kind = Value::Kind::kBool, v.boolean = o.boolean; break;
    }
    return v;
  }

  Tri eval(const StoredMessage& msg) const {
    switch (kind) {
      case Kind::kConst: return value ? Tri::kTrue : Tri::kFalse;
      case Kind::kAnd: {
        Tri l = lhs->eval(msg);
        if (l == Tri::kFalse) return l;
        return tri_and(l, rhs->eval(msg));
      }
      case Kind::kOr: {
        Tri l = lhs->eval(msg);
        if (l == Tri::kTrue) return l;
        return tri_or(l, rhs->eval(msg));
      }
      case Kind::kNot: return tri_not(lhs->eval(msg));
      case Kind::kCompare: return compare(op, resolve(a, msg), resolve(b, msg));
      case Kind::kIsNull: {
        bool null = resolve(a, msg).kind == Value::Kind::kNull;
        return null != negated ? Tri::kTrue : Tri::kFalse;
      }
      case Kind::kIn: {
        Value v = resolve(a, msg);
        if (v.kind == Value::Kind::kNull) return Tri::kUnknown;
        Tri any = Tri::kFalse;
        for (const Operand& item : list) any = tri_or(any, compare(TokenKind::kEq, v, resolve(item, msg)));
        return negated ? tri_not(any) : any;
      }
      case Kind::kBetween: {
        Value v = resolve(a, msg);
        Tri in = tri_and(compare(TokenKind::kGe, v, resolve(b, msg)), compare(TokenKind::kLe, v, resolve(c, msg)));
        return negated ? tri_not(in) : in;
      }
    }
    return Tri::kUnknown;
  }
};

namespace {

using Node = SqlFilter::Node;

class Parser {
 public:
  Parser(std::string_view expression, std::vector<Token> tokens)
      : expression_(expression), tokens_(std::move(tokens)) {}

  Result<std::unique_ptr<Node>> parse() {
    if (peek().kind == TokenKind::kEnd) return error(peek(), "the expression is empty");
    auto root = parse_or(0);
    if (!root) return root;
    if (peek().kind != TokenKind::kEnd)
      return error(peek(), "unexpected " + sql::describe(peek()) + "; expected AND, OR, ')' or the end");
    return root;
  }

 private:
  using NodeResult = Result<std::unique_ptr<Node>>;

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool accept(TokenKind k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }
  Status error(const Token& at, const std::string& problem) const {
    return sql::parse_error(expression_, at.position, problem);
  }

  static std::unique_ptr<Node> binary(Node::Kind kind, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->lhs = std::move(l);
    n->rhs = std::move(r);
    return n;
  }

  NodeResult parse_or(int depth) {
    auto left = parse_and(depth);
    if (!left) return left;
    std::unique_ptr<Node> node = std::move(left).value();
    while (accept(TokenKind::kOr)) {
      auto right = parse_and(depth);
      if (!right) return right;
      node = binary(Node::Kind::kOr, std::move(node), std::move(right).value());
    }
    return node;
  }

  NodeResult parse_and(int depth) {
    auto left = parse_not(depth);
    if (!left) return left;
    std::unique_ptr<Node> node = std::move(left).value();
    while (accept(TokenKind::kAnd)) {
      auto right = parse_not(depth);
      if (!right) return right;
      node = binary(Node::Kind::kAnd, std::move(node), std::move(right).value());
    }
    return node;
  }

  NodeResult parse_not(int depth) {
    if (depth > kMaxDepth) return error(peek(), "nesting is deeper than " + std::to_string(kMaxDepth) + " levels");
    if (accept(TokenKind::kNot)) {
      auto inner = parse_not(depth + 1);
      if (!inner) return inner;
      return binary(Node::Kind::kNot, std::move(inner).value(), nullptr);
    }
    return parse_predicate(depth);
  }

  Result<Operand> parse_operand(const std::string& what) {
    const Token& t = peek();
    Operand o;
    switch (t.kind) {
      case TokenKind::kIdent: o.kind = Operand::Kind::kProperty, o.text = t.text; break;
      case TokenKind::kString: o.kind = Operand::Kind::kString, o.text = t.text; break;
      case TokenKind::kInteger: o.kind = Operand::Kind::kInteger, o.integer = t.integer; break;
      case TokenKind::kDecimal: o.kind = Operand::Kind::kDecimal, o.decimal = t.decimal; break;
      case TokenKind::kTrue:
      case TokenKind::kFalse: o.kind = Operand::Kind::kBool, o.boolean = t.kind == TokenKind::kTrue; break;
      case TokenKind::kMinus:
      case TokenKind::kPlus: {
        const bool minus = t.kind == TokenKind::kMinus;
        next();
        const Token& num = peek();
        if (num.kind == TokenKind::kInteger) {
          o.kind = Operand::Kind::kInteger;
          o.integer = minus ? -num.integer : num.integer;
        } else if (num.kind == TokenKind::kDecimal) {
          o.kind = Operand::Kind::kDecimal;
          o.decimal = minus ? -num.decimal : num.decimal;
        } else {
          return error(num, "expected a number after '" + std::string(minus ? "-" : "+") + "' but found " +
                                sql::describe(num));
        }
        break;
      }
      default: return error(t, "expected " + what + " but found " + sql::describe(t));
    }
    next();
    return o;
  }

  Result<Operand> parse_literal() {
    const Token& t = peek();
    if (t.kind == TokenKind::kIdent)
      return error(t, "IN lists hold literals only, found " + sql::describe(t));
    return parse_operand("a literal ('text' or a number)");
  }

  static bool is_comparison(TokenKind k) {
    return k == TokenKind::kEq || k == TokenKind::kNe || k == TokenKind::kLt || k == TokenKind::kLe ||
           k == TokenKind::kGt || k == TokenKind::kGe;
  }

  NodeResult parse_predicate(int depth) {
    if (peek().kind == TokenKind::kLParen) {
      const Token open = next();
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (!accept(TokenKind::kRParen))
        return error(peek(), "expected ')' to close the '(' at position " + std::to_string(open.position) +
                                 " but found " + sql::describe(peek()));
      return inner;
    }
    const Token first = peek();
    auto a = parse_operand("a property name, a literal, NOT or '('");
    if (!a) return a.status();
    auto node = std::make_unique<Node>();
    node->a = std::move(a).value();
    const Token& t = peek();
    if (is_comparison(t.kind)) {
      node->kind = Node::Kind::kCompare;
      node->op = next().kind;
      auto b = parse_operand("a property name or a literal after '" + tokens_[pos_ - 1].text + "'");
      if (!b) return b.status();
      node->b = std::move(b).value();
      return node;
    }
    if (t.kind == TokenKind::kIs) {
      next();
      node->kind = Node::Kind::kIsNull;
      node->negated = accept(TokenKind::kNot);
      if (!accept(TokenKind::kNull))
        return error(peek(), "expected NULL after IS" + std::string(node->negated ? " NOT" : "") + " but found " +
                                 sql::describe(peek()));
      return node;
    }
    if (t.kind == TokenKind::kNot) {
      next();
      node->negated = true;
      if (peek().kind != TokenKind::kIn && peek().kind != TokenKind::kBetween)
        return error(peek(), "expected IN or BETWEEN after NOT but found " + sql::describe(peek()));
    }
    if (accept(TokenKind::kIn)) {
      node->kind = Node::Kind::kIn;
      if (!accept(TokenKind::kLParen)) return error(peek(), "expected '(' after IN but found " + sql::describe(peek()));
      if (peek().kind == TokenKind::kRParen) return error(peek(), "the IN list is empty");
      do {
        auto item = parse_literal();
        if (!item) return item.status();
        node->list.push_back(std::move(item).value());
      } while (accept(TokenKind::kComma));
      if (!accept(TokenKind::kRParen))
        return error(peek(), "expected ',' or ')' in the IN list but found " + sql::describe(peek()));
      return node;
    }
    if (accept(TokenKind::kBetween)) {
      node->kind = Node::Kind::kBetween;
      auto low = parse_operand("the lower bound after BETWEEN");
      if (!low) return low.status();
      node->b = std::move(low).value();
      if (!accept(TokenKind::kAnd))
        return error(peek(), "expected AND between the BETWEEN bounds but found " + sql::describe(peek()));
      auto high = parse_operand("the upper bound after BETWEEN ... AND");
      if (!high) return high.status();
      node->c = std::move(high).value();
      return node;
    }
    if (node->a.kind == Operand::Kind::kBool) {  // a bare TRUE / FALSE
      node->kind = Node::Kind::kConst;
      node->value = node->a.boolean;
      return node;
    }
    return error(t, "expected a comparison (=, <>, <, <=, >, >=), IS, IN or BETWEEN after " + sql::describe(first) +
                        " but found " + sql::describe(t));
  }

  std::string_view expression_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Result<SqlFilter> SqlFilter::parse(std::string_view expression) {
  auto tokens = sql::tokenize(expression);
  if (!tokens) return tokens.status();
  Parser parser(expression, std::move(tokens).value());
  auto root = parser.parse();
  if (!root) return root.status();
  SqlFilter filter;
  filter.expression_ = std::string(expression);
  filter.root_ = std::shared_ptr<const Node>(std::move(root).value());
  return filter;
}

bool SqlFilter::match_tag_hash(int64_t) const { return true; }

bool SqlFilter::match_message(const StoredMessage& msg) const { return root_ && root_->eval(msg) == Tri::kTrue; }

}  // namespace mq::kernel
