// Tag subscription expressions and their verdicts, shared by the broker's TagFilter tests
// (kernel/tests) and the SDK's TagFilter tests (sdk/tests includes this file), so both
// parsers accept and reject exactly the same inputs. The broker's rules are the reference.
#pragma once

namespace mq::tag_cases {

struct TagExpressionCase {
  const char* expression;
  bool valid;
  const char* tags;  // valid ones: "*" for match-all, else the distinct tags sorted, joined by ','
};

inline constexpr TagExpressionCase kTagExpressionCases[] = {
    {"*", true, "*"},
    {"", true, "*"},
    {"   ", true, "*"},
    {" * ", true, "*"},
    {"\t*\n", true, "*"},
    {"TagA", true, "TagA"},
    {"  TagA\t", true, "TagA"},
    {"TagA||TagB", true, "TagA,TagB"},
    {"TagB || TagA", true, "TagA,TagB"},
    {"TagA ||TagB||  TagC", true, "TagA,TagB,TagC"},
    {"TagA || TagA", true, "TagA"},
    {"TagA ||\nTagB", true, "TagA,TagB"},
    {"a-b_c.d:1", true, "a-b_c.d:1"},
    {"||", false, ""},
    {" || ", false, ""},
    {"TagA ||", false, ""},
    {"|| TagA", false, ""},
    {"A || || B", false, ""},
    {"A |||| B", false, ""},
    {"A || *", false, ""},
    {"* || A", false, ""},
    {"**", false, ""},
    {"Tag*", false, ""},
    {"TagA | TagB", false, ""},
    {"|TagA", false, ""},
    {"A ||| B", false, ""},
    {"TagA TagB", false, ""},
    {"TagA\tTagB", false, ""},
};

}  // namespace mq::tag_cases
