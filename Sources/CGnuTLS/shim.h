#ifndef MIMIC_CGNUTLS_SHIM_H
#define MIMIC_CGNUTLS_SHIM_H

// GnuTLS's public headers plus static inline wrappers for the macros Swift cannot import.
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

/// GNUTLS_PROFILE_TO_VFLAGS: a verification profile as verification flags.
static inline unsigned int mimic_gnutls_profile_to_vflags(gnutls_certificate_verification_profiles_t profile) {
    return GNUTLS_PROFILE_TO_VFLAGS(profile);
}

/// GNUTLS_KP_TLS_WWW_SERVER: the serverAuth extended key usage OID, as GnuTLS spells it.
static inline const char *mimic_gnutls_kp_tls_www_server(void) {
    return GNUTLS_KP_TLS_WWW_SERVER;
}

/// gnutls_free is a macro over a function pointer of the same name.
static inline void mimic_gnutls_free(void *pointer) {
    gnutls_free(pointer);
}

/// gnutls_malloc, likewise: what GnuTLS later frees with gnutls_free (an external key's signature, plaintext).
static inline void *mimic_gnutls_malloc(size_t size) {
    return gnutls_malloc(size);
}

/// GNUTLS_FLAGS_TO_SIGN_ALGO: the signature algorithm an external key's info callback is asked about.
static inline gnutls_sign_algorithm_t mimic_gnutls_flags_to_sign_algo(unsigned int flags) {
    return (gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
}

#endif
