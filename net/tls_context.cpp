// The client listener's TLS context (see tls_context.hpp).
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace chat::net {

namespace {

// The last OpenSSL error as text (the queue is emptied), or `fallback`.
std::string openssl_reason(const std::string& fallback) {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error())
    last = e;
  if (last == 0)
    return fallback;
  char text[256];
  ERR_error_string_n(last, text, sizeof text);
  return text;
}

// Chooses http/1.1 when the client offers it; a client offering only other protocols gets
// none (the handshake goes on without ALPN).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, http11, sizeof http11, in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

} // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                     const std::string& key_file) {
  using ssl = asio::ssl::context;
  auto ctx = std::make_unique<ssl>(ssl::tls_server);
  ctx->set_options(ssl::default_workarounds | ssl::no_sslv2 | ssl::no_sslv3 | ssl::no_tlsv1
                   | ssl::no_tlsv1_1 | ssl::single_dh_use | ssl::no_compression);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
    throw std::runtime_error("net.tls-cert: " + openssl_reason("no usable TLS 1.2 ciphers"));
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    throw std::runtime_error("net.tls-cert: cannot load certificate chain '" + cert_file
                             + "': " + openssl_reason("unreadable or not PEM"));
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("net.tls-key: cannot load private key '" + key_file
                             + "': " + openssl_reason("unreadable or not PEM")
                             + " (or it does not match net.tls-cert)");
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("net.tls-key: private key '" + key_file
                             + "' does not match the certificate '" + cert_file
                             + "': " + openssl_reason("mismatch"));
  return ctx;
}

} // namespace chat::net
