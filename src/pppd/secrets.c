/*
 * secrets.c - the files the pppd backend writes, which pppd (often as root)
 * trusts: peer files (entries.c) and pppd's own secrets files,
 * chap-secrets and pap-secrets in the secrets_dir option.
 *
 * Words are written as pppd reads them (options.c, getword): in double
 * quotes, with '"' and '\' escaped and every control byte as a three-digit
 * octal escape, so that no value can end its word, its line or start a
 * comment: whatever the bytes, pppd reads back exactly one word.
 *
 * A file is replaced, never edited in place: a temporary file in the same
 * directory (O_EXCL, O_NOFOLLOW), created with its final mode, written,
 * fsync'd and renamed over the old one, then the directory fsync'd. A
 * target that is a symbolic link is refused, never written through.
 *
 * In the secrets files the module's lines end with a comment naming the
 * peer file they belong to (`# ras-entry "/etc/ppp/peers/work"`); every
 * other line is kept byte for byte.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FILE (1u << 20)   /* bigger peer or secrets files are refused */
#define MARKER "# ras-entry "

static const char *const secrets_files[] = { "chap-secrets", "pap-secrets" };

/* ---------------------------------------------------------------------- */
/* buffers                                                                */

void pppd_buf_add(pppd_buf *b, const void *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n + 1) cap *= 2;
    /* never realloc: the old block may hold a secret and must be wiped */
    if (!(p = malloc(cap))) {
      b->failed = 1;
      return;
    }
    if (b->p) {
      memcpy(p, b->p, b->len);
      os_wipe(b->p, b->cap);
      free(b->p);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void pppd_buf_str(pppd_buf *b, const char *s) {
  pppd_buf_add(b, s, strlen(s));
}

void pppd_buf_quote(pppd_buf *b, const char *s) {
  pppd_buf_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char esc[2] = { '\\', (char)c };
      pppd_buf_add(b, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      char esc[5];
      snprintf(esc, sizeof esc, "\\%03o", c);
      pppd_buf_add(b, esc, 4);
    } else {
      pppd_buf_add(b, s, 1);
    }
  }
  pppd_buf_add(b, "\"", 1);
}

void pppd_buf_free(pppd_buf *b) {
  if (b->p) {
    os_wipe(b->p, b->cap);
    free(b->p);
  }
  memset(b, 0, sizeof *b);
}

int pppd_has_control(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* reading as pppd does                                                   */

static int grow(void **p, size_t *cap, size_t n, size_t size) {
  void *q;
  if (n < *cap) return 0;
  if (!(q = realloc(*p, (*cap ? *cap * 2 : 16) * size))) return -1;
  *p = q;
  *cap = *cap ? *cap * 2 : 16;
  return 0;
}

static int isoctal(int c) { return c >= '0' && c < '8'; }
static int isspace_c(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* One escape after a backslash at t[*i]: its byte (or -1 for a
 * backslash-newline, which pppd drops); *i moves past it. */
static int unescape(const char *t, size_t len, size_t *i) {
  int c = (unsigned char)t[(*i)++], v = 0, n;
  switch (c) {
  case '\n': return -1;
  case 'a': return '\a';
  case 'b': return '\b';
  case 'f': return '\f';
  case 'n': return '\n';
  case 'r': return '\r';
  case 's': return ' ';
  case 't': return '\t';
  case 'x':
    for (n = 0; n < 2 && *i < len && hexval(t[*i]) >= 0; n++) v = (v << 4) + hexval(t[(*i)++]);
    return v;
  default:
    if (!isoctal(c)) return c;
    v = c & 7;
    for (n = 1; n < 3 && *i < len && isoctal(t[*i]); n++) v = (v << 3) + (t[(*i)++] & 7);
    return v;
  }
}

/* A word starting at t[*i] (not a space, '#' or newline); *i moves past. */
static void read_word(pppd_file *f, size_t *i) {
  const char *t = f->text;
  int quote = 0;
  if (t[*i] == '"' || t[*i] == '\'') quote = t[(*i)++];
  f->open_end = quote != 0;           /* until its closing quote */
  while (*i < f->len) {
    int c = (unsigned char)t[*i];
    if (c == '\\') {
      (*i)++;
      if (*i >= f->len) {
        f->open_end = 1;              /* a backslash would eat our newline */
        break;
      }
      c = unescape(t, f->len, i);
      if (c >= 0) {
        char ch = (char)c;
        pppd_buf_add(&f->texts, &ch, 1);
      }
      continue;
    }
    if (quote ? c == quote : (isspace_c(c) || c == '#')) {
      if (quote) (*i)++, f->open_end = 0;
      break;
    }
    pppd_buf_add(&f->texts, t + (*i)++, 1);
  }
  pppd_buf_add(&f->texts, "", 1);   /* the word's NUL */
}

static int end_record(pppd_file *f, size_t start, size_t end, size_t first, size_t comment) {
  if (end == start) return 0;
  if (grow((void **)&f->recs, &f->recs_cap, f->nrecs, sizeof *f->recs) != 0) return -1;
  f->recs[f->nrecs++] = (pppd_record){ .start = start, .end = end, .word = first,
                                       .nwords = f->nwords - first, .comment = comment };
  return 0;
}

/* Splits f->text into records: one logical line each (a quoted word or a
 * backslash-newline may carry it over several), its words unquoted. */
static int parse(pppd_file *f) {
  size_t i = 0, start = 0, first = 0, comment = PPPD_NO_COMMENT;
  while (i < f->len) {
    int c = (unsigned char)f->text[i];
    if (c == '\n') {
      if (end_record(f, start, i + 1, first, comment) != 0) return -1;
      start = ++i;
      first = f->nwords;
      comment = PPPD_NO_COMMENT;
    } else if (comment != PPPD_NO_COMMENT || isspace_c(c)) {
      i++;
    } else if (c == '#') {
      comment = i++;
    } else if (c == '\\' && i + 1 < f->len && f->text[i + 1] == '\n') {
      i += 2;
    } else {
      if (grow((void **)&f->words, &f->words_cap, f->nwords, sizeof *f->words) != 0) return -1;
      f->words[f->nwords].raw_start = i;
      f->words[f->nwords].text = f->texts.len;
      read_word(f, &i);
      f->words[f->nwords++].raw_end = i;
    }
  }
  f->unterminated = start < i;   /* a last line no newline of its own ends */
  if (end_record(f, start, i, first, comment) != 0) return -1;
  return f->texts.failed ? -1 : 0;
}

const char *pppd_word(const pppd_file *f, size_t record, size_t n) {
  return f->texts.p + f->words[f->recs[record].word + n].text;
}

void pppd_file_free(pppd_file *f) {
  if (f->text) {
    os_wipe(f->text, f->len);
    free(f->text);
  }
  pppd_buf_free(&f->texts);
  free(f->recs);
  free(f->words);
  memset(f, 0, sizeof *f);
}

int pppd_open_dir(const char *path, int missing, ras_error *err) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = errno;
  char what[64 + OPTION_MAX_PATH];
  if (fd >= 0) return fd;
  snprintf(what, sizeof what, "cannot open the directory %s", path);
  if (missing && (e == ENOENT || e == ENOTDIR))
    ras_fail(err, missing, "%s: no such directory", what);
  else
    ras_fail_errno(err, e, what);
  errno = e;   /* for the caller to tell a missing one */
  return -1;
}

int pppd_read_file(int dfd, const char *dir, const char *name, pppd_file *f, ras_error *err) {
  struct stat st;
  ssize_t n;
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  char what[64 + OPTION_MAX_PATH + NAME_MAX];
  memset(f, 0, sizeof *f);
  snprintf(what, sizeof what, "cannot read %s/%s", dir, name);
  if (fd < 0) {
    if (errno == ENOENT) return 1;
    return ras_fail_errno(err, errno, what);
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
    close(fd);
    return ras_fail(err, RAS_ERROR_ACCESS_DENIED, "%s: not a regular file of at most %u bytes",
                    what, MAX_FILE);
  }
  f->mode = st.st_mode & 07777;
  if (!(f->text = malloc((size_t)st.st_size + 1))) {
    close(fd);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  while (f->len < (size_t)st.st_size &&
         (n = read(fd, f->text + f->len, (size_t)st.st_size - f->len)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      pppd_file_free(f);
      return ras_fail_errno(err, e, what);
    }
    f->len += (size_t)n;
  }
  close(fd);
  f->text[f->len] = '\0';
  if (parse(f) != 0) {
    pppd_file_free(f);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  return 0;
}

int pppd_open_end(ras_error *err, const char *dir, const char *name) {
  return ras_fail(err, PPPD_CORRUPT_PHONEBOOK, "%s/%s ends inside a quoted word or "
                  "after a backslash: a line added to it would become part of that word", dir,
                  name);
}

int pppd_is_symlink(int dfd, const char *name) {
  struct stat st;
  return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int pppd_rename_noreplace(int dfd, const char *from, const char *to) {
  if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  /* a file system without RENAME_NOREPLACE: link(2) never replaces either */
  if (linkat(dfd, from, dfd, to, 0) != 0) return -1;
  return unlinkat(dfd, from, 0);
}

int pppd_write_file(int dfd, const char *dir, const char *name, const pppd_buf *b,
                    mode_t mode, int create, ras_error *err) {
  char tmp[32], what[64 + OPTION_MAX_PATH + NAME_MAX];
  int fd = -1, e;
  snprintf(what, sizeof what, "cannot write %s/%s", dir, name);
  if (b->failed) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  if (pppd_is_symlink(dfd, name))
    return ras_fail(err, RAS_ERROR_ACCESS_DENIED, "%s: it is a symbolic link, which the "
                    "module never writes through", what);
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    /* a leading '.': entries() never lists it */
    snprintf(tmp, sizeof tmp, ".ras-tmp-%ld-%d", (long)getpid(), rand() % 1000000);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return ras_fail_errno(err, errno, what);
  /* the final mode from the start, whatever the umask */
  if (fchmod(fd, mode) != 0 || write_all(fd, b->p ? b->p : "", b->len) != 0 ||
      fsync(fd) != 0) {
    e = errno ? errno : EIO;
    close(fd);
    unlinkat(dfd, tmp, 0);
    return ras_fail_errno(err, e, what);
  }
  if (close(fd) != 0 ||
      (create ? pppd_rename_noreplace(dfd, tmp, name) : renameat(dfd, tmp, dfd, name)) != 0) {
    e = errno;
    unlinkat(dfd, tmp, 0);
    if (create && e == EEXIST)
      return ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "%s/%s exists already", dir, name);
    return ras_fail_errno(err, e, what);
  }
  fsync(dfd);   /* the rename itself on disk */
  return 0;
}

/* ---------------------------------------------------------------------- */
/* pppd's secrets files                                                   */

/* Is record r a line the module wrote for key (a peer file's path)? */
static int ours(const pppd_file *f, size_t r, const char *key) {
  const pppd_record *rec = &f->recs[r];
  size_t mlen = strlen(MARKER);
  pppd_file m;
  int match;
  if (rec->comment == PPPD_NO_COMMENT || rec->nwords < 3 ||
      rec->comment + mlen > rec->end || memcmp(f->text + rec->comment, MARKER, mlen) != 0)
    return 0;
  /* the key after the marker, read as a word */
  memset(&m, 0, sizeof m);
  m.text = f->text + rec->comment + mlen;
  m.len = rec->end - rec->comment - mlen;
  if (parse(&m) != 0) {
    m.text = NULL;
    pppd_file_free(&m);
    return 0;
  }
  match = m.nwords == 1 && strcmp(m.texts.p + m.words[0].text, key) == 0;
  m.text = NULL;   /* borrowed */
  pppd_file_free(&m);
  return match;
}

static void add_marker(pppd_buf *b, const char *key) {
  pppd_buf_str(b, " " MARKER);
  pppd_buf_quote(b, key);
  pppd_buf_str(b, "\n");
}

/* A secrets line: client, server "*", the secret, the marker. */
static void add_line(pppd_buf *b, const char *user, const char *password, const char *key) {
  pppd_buf_quote(b, user);
  pppd_buf_str(b, " * ");
  pppd_buf_quote(b, password);
  add_marker(b, key);
}

/* A new secrets file: every record but ours for key, then (user set) our
 * new line where the old one was, or at the end. The old line's secret
 * is kept when password is NULL; with no old line nothing is added then. */
static void rewrite(const pppd_file *f, const char *key, const char *user,
                    const char *password, const char *new_key, pppd_buf *out) {
  int done = 0;
  for (size_t r = 0; r < f->nrecs; r++) {
    const pppd_record *rec = &f->recs[r];
    if (!ours(f, r, key)) {
      pppd_buf_add(out, f->text + rec->start, rec->end - rec->start);
      if (f->unterminated && r + 1 == f->nrecs) pppd_buf_str(out, "\n");
      continue;
    }
    if (done || !user) continue;      /* a duplicate, or removing */
    done = 1;
    pppd_buf_quote(out, user);
    pppd_buf_str(out, " * ");
    if (password) pppd_buf_quote(out, password);
    else pppd_buf_quote(out, pppd_word(f, r, 2));
    add_marker(out, new_key);
  }
  if (!done && user && password) add_line(out, user, password, new_key);
}

/* Applies rewrite() to both files under an exclusive lock of the
 * directory: two programs saving at once cannot lose each other's line. */
static int update_secrets(ras_instance *pc, const char *key, const char *user,
                          const char *password, const char *new_key, ras_error *err) {
  int dfd = pppd_open_dir(pc->secrets_dir, 0, err), rc = 0;
  if (dfd < 0) return !user && errno == ENOENT ? 0 : err->code;   /* nothing to remove */
  if (flock(dfd, LOCK_EX) != 0) {
    rc = ras_fail_errno(err, errno, "cannot lock the secrets directory");
    close(dfd);
    return rc;
  }
  for (size_t i = 0; rc == 0 && i < sizeof secrets_files / sizeof secrets_files[0]; i++) {
    pppd_file f;
    pppd_buf out = { 0 };
    int r = pppd_read_file(dfd, pc->secrets_dir, secrets_files[i], &f, err);
    if (r < 0) {
      rc = err->code;
      break;
    }
    if (r == 1 && !(user && password)) continue;   /* nothing to remove */
    if (r == 0 && f.open_end) {
      rc = pppd_open_end(err, pc->secrets_dir, secrets_files[i]);
      pppd_file_free(&f);
      break;
    }
    rewrite(&f, key, user, password, new_key, &out);
    if (r == 1 || out.len != f.len || (out.p && memcmp(out.p, f.text, f.len) != 0))
      rc = pppd_write_file(dfd, pc->secrets_dir, secrets_files[i], &out, 0600, 0, err);
    pppd_buf_free(&out);
    pppd_file_free(&f);
  }
  close(dfd);   /* and the lock */
  return rc;
}

int pppd_secrets_set(ras_instance *pc, const char *key, const char *user,
                     const char *password, ras_error *err) {
  return update_secrets(pc, key, user, password, key, err);
}

int pppd_secrets_remove(ras_instance *pc, const char *key, ras_error *err) {
  return update_secrets(pc, key, NULL, NULL, key, err);
}

int pppd_secrets_rename(ras_instance *pc, const char *key, const char *new_key,
                        const char *user, ras_error *err) {
  /* user: the entry's; without one its lines go (they could match nothing) */
  return update_secrets(pc, key, user, NULL, new_key, err);
}

int pppd_secrets_saved(ras_instance *pc, const char *key, int *saved, ras_error *err) {
  int dfd = pppd_open_dir(pc->secrets_dir, 0, err);
  *saved = 0;
  if (dfd < 0) return errno == ENOENT ? 0 : err->code;
  for (size_t i = 0; !*saved && i < sizeof secrets_files / sizeof secrets_files[0]; i++) {
    pppd_file f;
    int r = pppd_read_file(dfd, pc->secrets_dir, secrets_files[i], &f, err);
    if (r < 0) {
      close(dfd);
      return err->code;
    }
    for (size_t k = 0; r == 0 && k < f.nrecs; k++) *saved |= ours(&f, k, key);
    if (r == 0) pppd_file_free(&f);
  }
  close(dfd);
  return 0;
}

#endif /* __linux__ */
