// The result type shared by the engine and the wire codec (ruprobes/error.hpp): a value, or an
// error whose value is never handed out.
#include "ruprobes/error.hpp"

#include <gtest/gtest.h>

namespace ruprobes {
namespace {

result<int> half(int n) {
    if (n % 2 != 0)
        return error::invalid_argument;
    return n / 2;
}

result<int> quarter(int n) {
    int h = RUPROBES_TRY(half(n));
    return RUPROBES_TRY(half(h));
}

TEST(result_test, value_or_error_and_try_propagates) {
    auto r = quarter(12);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 3);
    EXPECT_EQ(r.value(), 3);
    EXPECT_EQ(quarter(6).err(), error::invalid_argument);
    EXPECT_FALSE(quarter(7));
}

// Reading the value of an error is a broken invariant of the caller: a checked failure, not a
// default value that looks like a result.
TEST(result_test, the_value_of_an_error_is_a_checked_failure) {
    result<int> r = half(3);
    ASSERT_FALSE(r.ok());
    EXPECT_DEATH((void)*r, "");
    EXPECT_DEATH((void)r.value(), "");
    result<std::pair<int, int>> p = error::not_found;
    EXPECT_DEATH((void)p->first, "");
}

} // namespace
} // namespace ruprobes
