// ruprobesd-fake: ruprobesd serving the in-memory fake kernel of stub/target_model/fake_backend.hpp
// instead of a real one. A development and test tool; the production ruprobesd does not contain
// the fake.
#include "daemon/daemon_main.hpp"
#include "target_model/fake_backend.hpp"

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    using namespace ruprobes;
    return daemon::daemon_main(argc, argv, daemon::daemon_kind::fake_kernel,
                               [](boost::asio::io_context& io,
                                  const std::string&) -> std::unique_ptr<target::target_backend> {
                                   spdlog::info("serving the in-memory fake target");
                                   return std::make_unique<target::fake_backend>(io.get_executor());
                               });
}
