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

#endif
