/*
 * pilotage_spawn: start a component's process with posix_spawn, for the local executor
 * (src/executor/local/native-spawn.ts). Node's child_process forks the engine, and a fork's cost
 * grows with the parent's memory (0.8 ms from 50 MB of Node, 8 ms from 270 MB); posix_spawn
 * (clone with CLONE_VM | CLONE_VFORK in glibc) copies nothing, whatever the engine's size.
 *
 * Two functions, both synchronous and short:
 * - spawn(file, argv, envp, cwd) -> [pid, stdoutFd, stderrFd] or [-errno]: `file` is a path (the
 *   caller looks bare names up on the child's PATH); the child leads a new session (setsid: its
 *   own process group), has every signal at its default and none blocked, stdin on /dev/null,
 *   stdout and stderr on pipes whose read ends are returned (close-on-exec), working directory
 *   `cwd`, environment `envp` ("NAME=value" strings) and nothing else of this process.
 * - reap(pid) -> undefined while it runs, else [exitCode, signalNumber] (exitCode -1 when a signal
 *   ended it, signalNumber 0 when none did; [-1, 0] when `pid` is not a child of this process).
 *
 * Built by scripts/build-native.mjs with node-gyp when a C compiler is there; the local executor
 * falls back to its spawner process without it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A JS string as a malloc'd UTF-8 C string; NULL when it is not a string or memory ran out. */
static char *string_of(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text == NULL) return NULL;
  if (napi_get_value_string_utf8(env, value, text, length + 1, &length) != napi_ok) {
    free(text);
    return NULL;
  }
  return text;
}

static void free_strings(char **list) {
  if (list == NULL) return;
  for (char **item = list; *item != NULL; item++) free(*item);
  free(list);
}

/* A JS array of strings as a NULL-terminated array of C strings; NULL on any failure. */
static char **strings_of(napi_env env, napi_value array) {
  uint32_t count = 0;
  if (napi_get_array_length(env, array, &count) != napi_ok) return NULL;
  char **list = calloc((size_t)count + 1, sizeof(char *));
  if (list == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (list[i] = string_of(env, item)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

static napi_value number_array(napi_env env, const double *values, size_t count) {
  napi_value array;
  napi_create_array_with_length(env, count, &array);
  for (size_t i = 0; i < count; i++) {
    napi_value value;
    napi_create_double(env, values[i], &value);
    napi_set_element(env, array, (uint32_t)i, value);
  }
  return array;
}

static int start(const char *file, char *const argv[], char *const envp[], const char *cwd, pid_t *pid, int out[2],
                 int err[2]) {
  if (pipe2(out, O_CLOEXEC) != 0) return errno;
  if (pipe2(err, O_CLOEXEC) != 0) {
    int failure = errno;
    close(out[0]);
    close(out[1]);
    return failure;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t every, none;
  sigfillset(&every);
  sigemptyset(&none);
  int failure = posix_spawn_file_actions_init(&actions);
  if (failure == 0) {
    failure = posix_spawnattr_init(&attributes);
    if (failure == 0) {
      if ((failure = posix_spawn_file_actions_addchdir_np(&actions, cwd)) == 0 &&
          (failure = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
          (failure = posix_spawn_file_actions_adddup2(&actions, out[1], 1)) == 0 &&
          (failure = posix_spawn_file_actions_adddup2(&actions, err[1], 2)) == 0 &&
          (failure = posix_spawnattr_setsigdefault(&attributes, &every)) == 0 &&
          (failure = posix_spawnattr_setsigmask(&attributes, &none)) == 0 &&
          (failure = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                                                POSIX_SPAWN_SETSIGMASK)) == 0) {
        failure = posix_spawn(pid, file, &actions, &attributes, argv, envp);
      }
      posix_spawnattr_destroy(&attributes);
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  close(out[1]);
  close(err[1]);
  if (failure != 0) {
    close(out[0]);
    close(err[0]);
  }
  return failure;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 4) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd)");
    return NULL;
  }
  char *file = string_of(env, args[0]);
  char **argv = strings_of(env, args[1]);
  char **envp = strings_of(env, args[2]);
  char *cwd = string_of(env, args[3]);
  napi_value result = NULL;
  if (file == NULL || argv == NULL || envp == NULL || cwd == NULL) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd): strings, arrays of strings, without NUL");
  } else {
    pid_t pid = -1;
    int out[2], err[2];
    int failure = start(file, argv, envp, cwd, &pid, out, err);
    if (failure != 0) {
      double values[1] = {-failure};
      result = number_array(env, values, 1);
    } else {
      double values[3] = {pid, out[0], err[0]};
      result = number_array(env, values, 3);
    }
  }
  free(file);
  free(cwd);
  free_strings(argv);
  free_strings(envp);
  return result;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  int32_t pid = 0;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap(pid): a positive pid");
    return NULL;
  }
  int status = 0;
  pid_t reaped;
  do reaped = waitpid(pid, &status, WNOHANG);
  while (reaped == -1 && errno == EINTR);
  if (reaped == 0) return NULL;
  double values[2] = {-1, 0};
  if (reaped == pid) {
    values[0] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    values[1] = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return number_array(env, values, 2);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"spawn", NULL, Spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reap", NULL, Reap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, 2, functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
