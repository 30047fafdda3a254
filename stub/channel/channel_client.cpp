// The host client of the kernel channel (channel_client.hpp): construction, connections and
// the session; the typed requests are in channel_requests.cpp, the machinery in channel_impl.hpp.
#include "channel/channel_impl.hpp"

namespace ruprobes::channel {

const char* call_errc_name(call_errc e) {
    switch (e) {
    case call_errc::ok:
        return "ok";
    case call_errc::kernel_status:
        return "kernel_status";
    case call_errc::timeout:
        return "timeout";
    case call_errc::disconnected:
        return "disconnected";
    case call_errc::not_connected:
        return "not_connected";
    case call_errc::malformed:
        return "malformed";
    }
    return "unknown";
}

template <typename T>
std::string describe(const call_result<T>& r) {
    if (r.errc == call_errc::kernel_status) {
        return std::string("kernel status ") + wire::status_name(r.status) + " (" +
               std::to_string(r.status) + ")";
    }
    return call_errc_name(r.errc);
}

client::client(asio::io_context& io, client_options options, event_handlers handlers)
    : impl_(std::make_shared<impl>(io, options, std::move(handlers))) {}

client::~client() {
    impl_->handlers = {};
    impl_->disconnect("client destroyed", false);
}

awaitable<call_result<hello_info>> client::open(std::string path) {
    return impl_->open(std::move(path));
}

awaitable<call_result<hello_info>> client::open_fd(int fd) {
    return impl_->open_fd(fd);
}

awaitable<call_result<hello_info>> client::hello(bool reset) {
    return impl_->hello(reset);
}

void client::close() {
    impl_->disconnect("closed by the host");
}

bool client::connected() const {
    return impl_->conn != nullptr;
}

const hello_info& client::session() const {
    return impl_->last_hello;
}

uint64_t client::session_id() const {
    return impl_->sid;
}

channel_stats client::stats() const {
    channel_stats s = impl_->st;
    const wire::decoder_stats& d = impl_->decoder.stats();
    s.garbage_bytes = d.garbage_bytes;
    s.rejected_frames = d.rejected_total();
    return s;
}

awaitable<call_result<uint64_t>> client::ping(uint64_t cookie) {
    return impl_->ping(cookie);
}

void client::send_raw(std::vector<uint8_t> bytes) {
    impl_->send(std::move(bytes));
}

void client::ack_hits(uint64_t next_seq) {
    impl_->ack_hits(next_seq);
}

template std::string describe(const call_result<void>&);
template std::string describe(const call_result<uint32_t>&);
template std::string describe(const call_result<uint64_t>&);
template std::string describe(const call_result<hello_info>&);
template std::string describe(const call_result<spawned_process>&);
template std::string describe(const call_result<register_values>&);
template std::string describe(const call_result<fp_register_values>&);
template std::string describe(const call_result<std::vector<uint8_t>>&);
template std::string describe(const call_result<trace_status_info>&);
template std::string describe(const call_result<trace_frame_info>&);
template std::string describe(const call_result<std::vector<probe_entry>>&);
template std::string describe(const call_result<aggregation_table>&);
template std::string describe(const call_result<std::vector<process_entry>>&);
template std::string describe(const call_result<std::vector<thread_entry>>&);
template std::string describe(const call_result<channel_test_result>&);

} // namespace ruprobes::channel
