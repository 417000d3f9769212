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

// Context setup.
static inline int mimic_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return (int)SSL_CTX_add1_chain_cert(ctx, cert);
}
static inline long mimic_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long mimic_SSL_MODE_NO_AUTO_CHAIN(void) { return SSL_MODE_NO_AUTO_CHAIN; }
static inline long mimic_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long mimic_SSL_SESS_CACHE_SERVER(void) { return SSL_SESS_CACHE_SERVER; }
static inline long mimic_SSL_SESS_CACHE_OFF(void) { return SSL_SESS_CACHE_OFF; }
static inline uint64_t mimic_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }

// Server misbehaviour and per-SNI chains.
static inline long mimic_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}
static inline int mimic_SSL_CLIENT_HELLO_RETRY(void) { return SSL_CLIENT_HELLO_RETRY; }
static inline int mimic_SSL_set1_chain(SSL *ssl, STACK_OF(X509) *chain) {
    return (int)SSL_set1_chain(ssl, chain);
}

// Security operations about certificates (ours or the peer's), as opposed to protocol choices.
static inline int mimic_secop_is_certificate(int op) {
    int bare = op & ~SSL_SECOP_PEER;
    return bare == SSL_SECOP_EE_KEY || bare == SSL_SECOP_CA_KEY || bare == SSL_SECOP_CA_MD;
}

// Engine.
static inline long mimic_BIO_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}
static inline int mimic_SSL_get_negotiated_group(SSL *ssl) {
    return (int)SSL_get_negotiated_group(ssl);
}
static inline int mimic_SSL_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *mimic_SSL_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }

// Stacks.
static inline int mimic_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *mimic_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}
static inline STACK_OF(X509) *mimic_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int mimic_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline void mimic_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }

// Errors.
static inline int mimic_ERR_GET_LIB(unsigned long error) { return ERR_GET_LIB(error); }
static inline int mimic_ERR_GET_REASON(unsigned long error) { return ERR_GET_REASON(error); }

// Verification.
static inline int mimic_X509_STORE_CTX_set_app_data(X509_STORE_CTX *ctx, void *data) {
    return X509_STORE_CTX_set_ex_data(ctx, 0, data);
}
static inline void *mimic_X509_STORE_CTX_get_app_data(X509_STORE_CTX *ctx) {
    return X509_STORE_CTX_get_ex_data(ctx, 0);
}

// A certificate's subject as RFC 2253 text (`CN=leaf,O=Example`), written into `buffer`; returns its length.
static inline int mimic_X509_subject_text(X509 *cert, char *buffer, int capacity) {
    if (cert == NULL || buffer == NULL || capacity <= 0) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return 0;
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    int length = BIO_read(bio, buffer, capacity);
    BIO_free(bio);
    return length < 0 ? 0 : length;
}

// TLS offers: exactly these groups, server order, legacy peers, the library's suite table (enumeration).
static inline int mimic_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline uint64_t mimic_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t mimic_SSL_OP_LEGACY_SERVER_CONNECT(void) { return SSL_OP_LEGACY_SERVER_CONNECT; }
static inline int mimic_sk_SSL_CIPHER_num(const STACK_OF(SSL_CIPHER) *stack) { return sk_SSL_CIPHER_num(stack); }
static inline const SSL_CIPHER *mimic_sk_SSL_CIPHER_value(const STACK_OF(SSL_CIPHER) *stack, int index) {
    return sk_SSL_CIPHER_value(stack, index);
}

#endif
