// SqlFilter: lexer/parser errors (position and problem), precedence, three-valued logic,
// numeric vs string comparison, IN / BETWEEN / IS NULL, TAGS.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "broker/sql_filter.h"

namespace mq::test {
namespace {

using kernel::SqlFilter;

StoredMessage msg(std::initializer_list<std::pair<const char*, const char*>> props) {
  StoredMessage m;
  for (const auto& [k, v] : props) m.set_property(k, v);
  return m;
}

bool eval(const std::string& expr, const StoredMessage& m) {
  auto f = SqlFilter::parse(expr);
  EXPECT_TRUE(f.is_ok()) << expr << ": " << f.status().to_string();
  return f.is_ok() && f->match_message(m);
}

Status parse_error(const std::string& expr) {
  auto f = SqlFilter::parse(expr);
  EXPECT_FALSE(f.is_ok()) << "'" << expr << "' parsed but should not";
  return f.status();
}

TEST(SqlFilterTest, Comparisons) {
  auto m = msg({{"a", "3"}, {"b", "x"}, {"d", "2.5"}, {"neg", "-4"}});
  EXPECT_TRUE(eval("a = 3", m));
  EXPECT_TRUE(eval("a <> 4", m));
  EXPECT_TRUE(eval("a != 4", m));
  EXPECT_TRUE(eval("a > 2", m));
  EXPECT_FALSE(eval("a > 3", m));
  EXPECT_TRUE(eval("a >= 3", m));
  EXPECT_TRUE(eval("a < 10", m));  // numeric: a string comparison would say "3" > "10"
  EXPECT_TRUE(eval("a <= 3.0", m));
  EXPECT_TRUE(eval("d > 2", m));
  EXPECT_TRUE(eval("d < 2.6", m));
  EXPECT_TRUE(eval("neg < -3", m));
  EXPECT_TRUE(eval("neg = -4", m));
  EXPECT_TRUE(eval("b = 'x'", m));
  EXPECT_FALSE(eval("b = 'X'", m));
  EXPECT_TRUE(eval("b <> 'y'", m));
  EXPECT_TRUE(eval("'x' = b", m));
  EXPECT_FALSE(eval("a = '3.0'", m));  // a string literal compares as text
  EXPECT_TRUE(eval("a = '3'", m));
  EXPECT_FALSE(eval("b > 1", m));      // non-numeric property vs number: unknown
  EXPECT_FALSE(eval("NOT (b > 1)", m));
}

TEST(SqlFilterTest, MissingPropertyIsNull) {
  auto m = msg({{"a", "1"}});
  EXPECT_FALSE(eval("missing = 1", m));
  EXPECT_FALSE(eval("missing <> 1", m));
  EXPECT_FALSE(eval("NOT (missing = 1)", m));  // NOT unknown is unknown
  EXPECT_TRUE(eval("missing IS NULL", m));
  EXPECT_FALSE(eval("missing IS NOT NULL", m));
  EXPECT_TRUE(eval("a IS NOT NULL", m));
  EXPECT_FALSE(eval("missing IN ('1')", m));
  EXPECT_FALSE(eval("missing NOT IN ('1')", m));
  EXPECT_TRUE(eval("missing = 1 OR a = 1", m));   // unknown OR true
  EXPECT_FALSE(eval("missing = 1 AND a = 1", m));  // unknown AND true
}

TEST(SqlFilterTest, PrecedenceNotOverAndOverOr) {
  auto m = msg({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  // AND binds tighter than OR: true OR (false AND false)
  EXPECT_TRUE(eval("a = 1 OR b = 0 AND c = 0", m));
  EXPECT_FALSE(eval("(a = 1 OR b = 0) AND c = 0", m));
  // NOT binds tighter than AND: (NOT false) AND true
  EXPECT_TRUE(eval("NOT a = 0 AND b = 2", m));
  EXPECT_FALSE(eval("NOT (a = 1 AND b = 2)", m));
  EXPECT_TRUE(eval("NOT NOT a = 1", m));
  EXPECT_TRUE(eval("((a = 1))", m));
  EXPECT_TRUE(eval("TRUE", m));
  EXPECT_FALSE(eval("FALSE", m));
  EXPECT_TRUE(eval("true AND a = 1", m));  // keywords are case-insensitive
  EXPECT_TRUE(eval("a = 1 and b = 2 or c = 0", m));
}

TEST(SqlFilterTest, InBetweenAndTags) {
  auto m = msg({{"region", "eu"}, {"n", "5"}, {"TAGS", "TagA"}, {"flag", "true"}});
  EXPECT_TRUE(eval("region IN ('us', 'eu')", m));
  EXPECT_FALSE(eval("region IN ('us')", m));
  EXPECT_TRUE(eval("region NOT IN ('us', 'asia')", m));
  EXPECT_FALSE(eval("region NOT IN ('eu')", m));
  EXPECT_TRUE(eval("n IN (4, 5)", m));
  EXPECT_TRUE(eval("n BETWEEN 1 AND 5", m));
  EXPECT_TRUE(eval("n BETWEEN 5 AND 5", m));
  EXPECT_FALSE(eval("n BETWEEN 6 AND 9", m));
  EXPECT_TRUE(eval("n NOT BETWEEN 6 AND 9", m));
  EXPECT_FALSE(eval("n NOT BETWEEN 1 AND 9", m));
  EXPECT_TRUE(eval("n BETWEEN 1 AND 9 AND region = 'eu'", m));  // BETWEEN's AND is not the logical AND
  EXPECT_TRUE(eval("TAGS = 'TagA'", m));
  EXPECT_TRUE(eval("TAGS IN ('TagA', 'TagB') AND n > 4", m));
  EXPECT_TRUE(eval("flag = TRUE", m));
  EXPECT_FALSE(eval("flag = FALSE", m));
  EXPECT_TRUE(eval("s = 'it''s'", msg({{"s", "it's"}})));
  EXPECT_TRUE(eval("x.y_z$ = 1", msg({{"x.y_z$", "1"}})));
}

TEST(SqlFilterTest, TagHashNeverRejects) {
  auto f = SqlFilter::parse("a = 1");
  ASSERT_TRUE(f.is_ok());
  EXPECT_TRUE(f->match_tag_hash(0));
  EXPECT_TRUE(f->match_tag_hash(12345));
  EXPECT_EQ(f->expression(), "a = 1");
}

TEST(SqlFilterTest, ErrorsNamePositionAndProblem) {
  struct Case {
    const char* expr;
    const char* position;
    const char* problem;
  };
  for (const Case& c : {
           Case{"", "position 1", "empty"},
           Case{"   ", "position 4", "empty"},
           Case{"a =", "position 4", "expected a property name or a literal after '='"},
           Case{"a = 'x", "position 5", "not closed"},
           Case{"a = 1 AND", "position 10", "expected a property name"},
           Case{"(a = 1", "position 7", "expected ')' to close the '(' at position 1"},
           Case{"a = 1)", "position 6", "unexpected ')'"},
           Case{"a", "position 2", "expected a comparison"},
           Case{"a b", "position 3", "expected a comparison"},
           Case{"a # 1", "position 3", "unexpected character '#'"},
           Case{"a = \"x\"", "position 5", "double quotes"},
           Case{"a IN ()", "position 7", "IN list is empty"},
           Case{"a IN ('x' 'y')", "position 11", "expected ',' or ')'"},
           Case{"a IN (b)", "position 7", "literals only"},
           Case{"a BETWEEN 1 OR 2", "position 13", "expected AND between"},
           Case{"a IS 1", "position 6", "expected NULL after IS"},
           Case{"a NOT LIKE 'x'", "position 7", "expected IN or BETWEEN after NOT"},
           Case{"a = 99999999999999999999", "position 5", "64-bit range"},
           Case{"a = 12abc", "position 7", "after number"},
           Case{"a = -'x'", "position 6", "expected a number after '-'"},
       }) {
    Status st = parse_error(c.expr);
    EXPECT_EQ(st.code(), Code::kSubscriptionParseFailed) << c.expr;
    EXPECT_NE(st.message().find(c.position), std::string::npos) << c.expr << " -> " << st.message();
    EXPECT_NE(st.message().find(c.problem), std::string::npos) << c.expr << " -> " << st.message();
    EXPECT_NE(st.message().find(std::string("'") + c.expr + "'"), std::string::npos) << st.message();
  }
  std::string deep(200, '(');
  deep += "a = 1" + std::string(200, ')');
  EXPECT_NE(parse_error(deep).message().find("deeper"), std::string::npos);
}

}  // namespace
}  // namespace mq::test
