/*
 * greet-c: the whole component contract in C, with nothing but libc and one kept-alive
 * HTTP/1.1 connection to the engine for all five callbacks (no process per call, no HTTP
 * library). Build: `cc -O2 -o greet greet.c` (or `make -C components/greet-c`).
 *
 * Reads CO_INPUT_NAME (the engine exports each scalar field of the event data as CO_INPUT_*),
 * so no JSON parser is needed. Run by hand (no CO_* variables) it only prints the greeting.
 * With `--no-callbacks` it does the same under the engine: the exit-code style, whose verdict
 * is the exit code (the baseline `npm run bench` compares the contract with).
 *
 * Callback URLs are `http://host:port/path`: plain HTTP, which is what the local executor gives
 * (loopback). An `https:` engine URL needs a TLS library; this example refuses it clearly.
 * Every call is answered only once the engine stored it; a non-200 answer ends the component
 * with exit code 1 and the engine's message on stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* The one connection to the engine, opened by the first call and kept for the others. */
static int conn = -1;
static char conn_authority[256]; /* host:port it is connected to */

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "greet-c: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

/* Split `http://host:port/path` into its authority (host:port), host, port and path. */
static void split_url(const char *url, char *authority, size_t alen, char *host, size_t hlen, char *port,
                      size_t plen, const char **path) {
  if (strncmp(url, "http://", 7) != 0) fail("only http:// callback URLs are supported, got", url);
  const char *start = url + 7;
  const char *slash = strchr(start, '/');
  size_t len = slash ? (size_t)(slash - start) : strlen(start);
  if (len == 0 || len >= alen) fail("bad callback URL authority", NULL);
  memcpy(authority, start, len);
  authority[len] = '\0';
  *path = slash ? slash : "/";
  const char *colon = strrchr(authority, ':');
  const char *bracket = strrchr(authority, ']'); /* [::1]:8080 */
  size_t hostlen = colon && (!bracket || colon > bracket) ? (size_t)(colon - authority) : len;
  const char *portstr = colon && (!bracket || colon > bracket) ? colon + 1 : "80";
  if (authority[0] == '[' && hostlen >= 2) {
    if (hostlen - 2 >= hlen) fail("host too long", NULL);
    memcpy(host, authority + 1, hostlen - 2);
    host[hostlen - 2] = '\0';
  } else {
    if (hostlen >= hlen) fail("host too long", NULL);
    memcpy(host, authority, hostlen);
    host[hostlen] = '\0';
  }
  if (strlen(portstr) >= plen) fail("port too long", NULL);
  strcpy(port, portstr);
}

static void connect_to(const char *authority, const char *host, const char *port) {
  struct addrinfo hints = {0}, *found, *ai;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &found);
  if (rc != 0) fail("cannot resolve the engine's host", gai_strerror(rc));
  for (ai = found; ai != NULL; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1; /* small requests: send each at once */
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn = fd;
      snprintf(conn_authority, sizeof conn_authority, "%s", authority);
      break;
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (conn < 0) fail("cannot connect to the engine", strerror(errno));
}

static void disconnect(void) {
  if (conn >= 0) close(conn);
  conn = -1;
}

static int write_all(const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(conn, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * Read one HTTP/1.1 answer into buf (headers and body, NUL-terminated). Returns the status
 * code, 0 when the connection closed before any byte (a kept-alive connection the engine had
 * closed: the caller reconnects and sends again), -1 on any other error. Sets *body. Handles
 * Content-Length answers, which is what the engine sends, and `Connection: close`.
 */
static int read_answer(char *buf, size_t cap, const char **body) {
  size_t have = 0;
  char *end = NULL;
  while (end == NULL) {
    if (have + 1 >= cap) return -1;
    ssize_t n = recv(conn, buf + have, cap - 1 - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return have == 0 ? 0 : -1;
    have += (size_t)n;
    buf[have] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  int status = 0;
  if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
  long length = -1;
  int closing = 0;
  *end = '\0'; /* the header lines, each ended by CRLF, now end the string */
  for (char *line = strstr(buf, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
    line += 2;
    char *eol = strstr(line, "\r\n");
    if (eol != NULL) *eol = '\0';
    if (strncasecmp(line, "content-length:", 15) == 0) length = strtol(line + 15, NULL, 10);
    if (strncasecmp(line, "connection:", 11) == 0 && strstr(line + 11, "close") != NULL) closing = 1;
    if (eol == NULL) break;
    *eol = '\r';
  }
  if (length < 0) return -1; /* no chunked answers from the engine: refuse rather than guess */
  size_t head = (size_t)(end + 4 - buf);
  if (head + (size_t)length + 1 > cap) return -1;
  while (have < head + (size_t)length) {
    ssize_t n = recv(conn, buf + have, head + (size_t)length - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    have += (size_t)n;
  }
  buf[head + (size_t)length] = '\0';
  *body = buf + head;
  if (closing) disconnect();
  return status;
}

/*
 * POST `json` to the URL in env var `name`; nothing when it is unset (run by hand). Exits 1
 * unless the engine answers 200. A kept-alive connection the engine closed meanwhile is
 * reopened once and the call sent again (a repeat of a call is safe: docs/contract.md).
 */
static void post(const char *name, const char *json) {
  const char *url = getenv(name);
  if (url == NULL || url[0] == '\0') return;
  char authority[256], host[256], port[16], request[4096], answer[8192];
  const char *path, *body = "";
  split_url(url, authority, sizeof authority, host, sizeof host, port, sizeof port, &path);
  int len = snprintf(request, sizeof request,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, authority, strlen(json), json);
  if (len < 0 || (size_t)len >= sizeof request) fail("callback body too large for this example", name);
  for (int attempt = 0; attempt < 2; attempt++) {
    if (conn >= 0 && strcmp(conn_authority, authority) != 0) disconnect();
    int reused = conn >= 0;
    if (conn < 0) connect_to(authority, host, port);
    int status = write_all(request, (size_t)len) == 0 ? read_answer(answer, sizeof answer, &body) : 0;
    if (status == 200) return;
    if (status == 0 && reused) { /* the engine closed the idle connection: once more */
      disconnect();
      continue;
    }
    if (status <= 0) fail("the engine's answer could not be read for", name);
    fprintf(stderr, "greet-c: %s answered %d: %s\n", name, status, body);
    exit(1);
  }
  fail("the engine closed the connection twice for", name);
}

/* Append `text` to `out` as the inside of a JSON string literal. */
static size_t json_escape(char *out, size_t cap, const char *text) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
    char esc[8];
    const char *piece = esc;
    if (*p == '"') piece = "\\\"";
    else if (*p == '\\') piece = "\\\\";
    else if (*p == '\n') piece = "\\n";
    else if (*p < 0x20) snprintf(esc, sizeof esc, "\\u%04x", *p);
    else {
      esc[0] = (char)*p;
      esc[1] = '\0';
    }
    size_t plen = strlen(piece);
    if (n + plen + 1 > cap) fail("the greeting is too long", NULL);
    memcpy(out + n, piece, plen);
    n += plen;
  }
  out[n] = '\0';
  return n;
}

int main(int argc, char **argv) {
  int callbacks = !(argc > 1 && strcmp(argv[1], "--no-callbacks") == 0);
  const char *name = getenv("CO_INPUT_NAME");
  if (name == NULL || name[0] == '\0') name = "world";
  char greeting[1024], escaped[2048], result[2200];
  snprintf(greeting, sizeof greeting, "Hello, %s!", name);

  if (callbacks) {
    post("CO_COMPONENT_START", "{}");
    post("CO_TASK_START", "{}");
    post("CO_TASK_STATUS", "{\"message\":\"composing the greeting\",\"progress\":0.5}");
  }
  puts(greeting);
  fflush(stdout);
  if (callbacks) {
    json_escape(escaped, sizeof escaped, greeting);
    snprintf(result, sizeof result, "{\"status\":\"success\",\"output\":{\"greeting\":\"%s\"}}", escaped);
    post("CO_TASK_RESULT", result);
    post("CO_COMPONENT_STOP", "{}");
    disconnect();
  }
  return 0;
}
