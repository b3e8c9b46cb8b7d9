// TLS on the client listener: the server context made once at start from the PEM
// certificate chain and private key (net.tls-cert, net.tls-key), and the stream type a TLS
// connection uses (OpenSSL through Asio over Beast's timed TCP stream, so the handshake and
// HTTP reads keep their timeouts).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <string>

namespace chat::net {

namespace asio = boost::asio;

using tls_stream = asio::ssl::stream<boost::beast::tcp_stream>;

// TLS 1.2 and later, forward-secret AEAD ciphers for 1.2, ALPN http/1.1. Throws
// std::runtime_error with one line naming the key and the reason when a file is
// unreadable or not PEM, or the key does not belong to the certificate.
std::unique_ptr<asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                     const std::string& key_file);

} // namespace chat::net
