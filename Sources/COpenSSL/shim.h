#ifndef MIMIC_COPENSSL_SHIM_H
#define MIMIC_COPENSSL_SHIM_H

// OpenSSL's public headers plus static inline wrappers for the macros Swift cannot import.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

static inline long mimic_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int mimic_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int mimic_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline size_t mimic_BIO_pending(BIO *bio) {
    return (size_t)BIO_pending(bio);
}
static inline size_t mimic_BIO_ctrl_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}

#endif
