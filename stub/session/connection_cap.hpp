// The cap on connections per port: a new connection past it takes the place of the connection
// that has been idle longest among those that hold nothing, so silent clients cannot lock out
// new ones; when every connection holds something, the new one is refused.
#pragma once

#include <memory>

namespace ruprobes::session {

// `Range` holds std::weak_ptr<S> (or pairs whose .second is one); S has
// `session_deadlines& deadlines()`. The session to close to make room, or nullptr.
template <typename Range, typename Get>
auto longest_idle(const Range& sessions, Get get) -> decltype(get(*std::begin(sessions))) {
    decltype(get(*std::begin(sessions))) victim;
    for (const auto& entry : sessions) {
        auto s = get(entry);
        if (!s || s->deadlines().holding())
            continue;
        if (!victim || s->deadlines().last_input() < victim->deadlines().last_input())
            victim = s;
    }
    return victim;
}

} // namespace ruprobes::session
