/*
 * node-init: PID 1 of a cluster node. Runs ARGV (the node supervisor) as its child, forwards the
 * termination signals to it, and reaps every process orphaned inside the node, which Node.js as
 * PID 1 would leave as zombies. A child that dies on its own (a crash) is started again after a
 * second, so the node's containers outlive it; once a termination signal was forwarded, node-init
 * exits with the child's status and the kernel kills whatever is left in the node's PID namespace.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

/* Forks and execs argv[1..] with the signal mask `old`; returns the child's pid, or -1. */
static pid_t start_child(char **argv, const sigset_t *old) {
  pid_t child = fork();
  if (child < 0) {
    helper_fail("fork");
    return -1;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, old, NULL);
    execvp(argv[1], argv + 1);
    helper_fail("exec %s", argv[1]);
    _exit(127);
  }
  return child;
}

int cmd_node_init(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sifkube-helper node-init PROGRAM [ARGS...]\n");
    return 2;
  }
  /* All signals are taken synchronously with sigwait; the child gets the original mask back. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = start_child(argv, &old);
  if (child < 0) return 1;
  int stopping = 0;
  for (;;) {
    int sig;
    if (sigwait(&all, &sig) != 0) continue;
    if (sig != SIGCHLD) {
      /* Forward what a runtime or a user sends the node (TERM from `kill`, INT, HUP, USR1/2, …). */
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) stopping = 1;
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      if (stopping) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      fprintf(stderr, "node-init: %s exited on its own (status %d): starting it again\n", argv[1], status);
      sleep(1);
      child = start_child(argv, &old);
      if (child < 0) return 1;
    }
  }
}
