#ifndef MIMIC_CGNUTLS_SHIM_H
#define MIMIC_CGNUTLS_SHIM_H

// GnuTLS's public headers plus static inline wrappers for the macros Swift cannot import.
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

#endif
