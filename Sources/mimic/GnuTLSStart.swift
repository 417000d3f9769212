/// GnuTLS initialises itself in a constructor as a process starts (it builds its ASN.1 trees, probes the CPU and
/// reads the system priority file: 0.3 ms of every `mimic` run, `--help` and runs that never touch GnuTLS
/// included) unless this weak hook of its answers non-zero. Answering 1 leaves the initialisation to MimicTLS,
/// which initialises GnuTLS on the thread that first needs it, and the clean-up at exit to the operating system.
/// Linked statically (`make release`) this definition replaces the library's; with the shared library the
/// executable's exported definition interposes on the library's call through its PLT.
///
/// It belongs to the executable alone: a process that embeds Mimic's libraries may hold other code that counts on
/// GnuTLS's implicit initialisation, as GnuTLS has allowed since 3.3.
@_cdecl("_gnutls_global_init_skip")
public func gnutlsSkipsImplicitInitialization() -> Int32 { 1 }
