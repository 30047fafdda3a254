// The values of ruprobesd's flags: listen addresses, seconds, command lines.
#include "daemon/options.hpp"

#include <cstdlib>
#include <sstream>

namespace ruprobes::daemon {

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::optional<listen_address> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
        return std::nullopt;
    std::string host = text.substr(0, colon);
    std::string port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        host = "127.0.0.1";
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    unsigned long port = std::stoul(port_text);
    if (port > 65535)
        return std::nullopt;
    return listen_address{host, static_cast<uint16_t>(port)};
}

std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text) {
    if (text.empty() || text.size() > 12 ||
        text.find_first_not_of("0123456789.") != std::string::npos)
        return std::nullopt;
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !(seconds >= 0.01) || seconds > 1e6)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::vector<std::string> split_command(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word)
        out.push_back(word);
    return out;
}

} // namespace ruprobes::daemon
