/* Loading a compiled seccomp filter (the struct sock_filter array src/runtime/seccomp compiles). */
#ifndef SIFKUBE_SECCOMP_H
#define SIFKUBE_SECCOMP_H

#include <stddef.h>

/*
 * Installs the classic BPF program `prog` (`len` bytes, a multiple of 8) as a seccomp filter on the
 * calling thread, with seccomp(SECCOMP_SET_MODE_FILTER, flags); with flags 0 through prctl, which
 * older kernels also have. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
 * Returns 0, or -1 with errno set.
 */
int seccomp_load(const void *prog, size_t len, unsigned int flags);

#endif
