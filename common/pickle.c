/* pickle.c: a pickle virtual machine that can only build state dicts.
 * Rule: values are plain data in one registry freed at the end; "calling" an allowlisted global is a C
 * function that checks its arguments and makes a value; nothing else can be called. */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR } vkind;
static const char *const g_kind_names[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict",
                                           "global", "storage", "tensor"};

typedef struct val val;
typedef struct {
    val *storage;
    uint64_t offset;
    int ndim;
    int64_t shape[FT_TENSOR_MAX_DIMS];
} tens;

struct val {
    vkind kind;
    int64_t i;        /* int, bool; global: index in g_globals */
    const char *s;    /* str (borrowed from the input, not NUL-terminated); storage: its key */
    size_t len;
    ft_dtype dtype;   /* storage */
    uint64_t numel;   /* storage */
    val **items;      /* tuple, list; dict: key, value, key, value... */
    size_t n, cap;
    tens *t;          /* tensor */
};

enum { G_ORDEREDDICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_STORAGE };
static const struct {
    const char *module, *name;
    int kind;
    ft_dtype dtype;
} g_globals[] = {
    {"collections", "OrderedDict", G_ORDEREDDICT, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0},
    {"torch", "FloatStorage", G_STORAGE, FT_DTYPE_F32},
    {"torch", "HalfStorage", G_STORAGE, FT_DTYPE_F16},
    {"torch", "BFloat16Storage", G_STORAGE, FT_DTYPE_BF16},
    {"torch", "DoubleStorage", G_STORAGE, FT_DTYPE_F64},
    {"torch", "LongStorage", G_STORAGE, FT_DTYPE_I64},
    {"torch", "IntStorage", G_STORAGE, FT_DTYPE_I32},
    {"torch", "ShortStorage", G_STORAGE, FT_DTYPE_I16},
    {"torch", "CharStorage", G_STORAGE, FT_DTYPE_I8},
    {"torch", "ByteStorage", G_STORAGE, FT_DTYPE_U8},
    {"torch", "BoolStorage", G_STORAGE, FT_DTYPE_BOOL},
};
#define N_GLOBALS (sizeof g_globals / sizeof g_globals[0])

typedef struct {
    const unsigned char *start, *p, *end;
    size_t op_at; /* offset of the opcode being run, for messages */
    val **all;    /* every value made, for the final free */
    size_t n_all, cap_all;
    val **stack;
    size_t sp, cap_stack;
    size_t *marks; /* stack heights at each MARK */
    size_t n_marks, cap_marks;
    val **memo; /* (cap_memo) NULL where unset */
    size_t cap_memo, n_memo;
    ft_buf *why;
} vm;

#define ERR(code, fmt, ...) ft_fail(m->why, code, "data.pkl at byte %zu: " fmt, m->op_at, ##__VA_ARGS__)

/* Grows *v (elements of size esz, capacity *cap) to hold need; 0 or FT_ENOMEM. */
static int grow(void *pv, size_t *cap, size_t need, size_t esz) {
    void **v = pv;
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *n = realloc(*v, c * esz);
    if (!n) return FT_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}

static val *mk(vm *m, vkind kind) {
    if (grow(&m->all, &m->cap_all, m->n_all + 1, sizeof *m->all)) return NULL;
    val *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = kind;
    m->all[m->n_all++] = v;
    return v;
}

static int push(vm *m, val *v) {
    if (!v || grow(&m->stack, &m->cap_stack, m->sp + 1, sizeof *m->stack))
        return ERR(FT_ENOMEM, "out of memory");
    m->stack[m->sp++] = v;
    return 0;
}

/* The bottom of the current mark frame: values below it cannot be popped. */
static size_t frame_base(const vm *m) { return m->n_marks ? m->marks[m->n_marks - 1] : 0; }

static int pop(vm *m, val **out) {
    if (m->sp <= frame_base(m)) return ERR(FT_EPARSE, "stack underflow");
    *out = m->stack[--m->sp];
    return 0;
}
static int top(vm *m, val **out) {
    if (m->sp <= frame_base(m)) return ERR(FT_EPARSE, "stack underflow");
    *out = m->stack[m->sp - 1];
    return 0;
}

/* Pops the values above the last MARK and the mark itself; *base is where they start on the stack (they stay
 * readable there until the next push). */
static int pop_mark(vm *m, size_t *base, size_t *n) {
    if (!m->n_marks) return ERR(FT_EPARSE, "no MARK before this opcode");
    *base = m->marks[--m->n_marks];
    *n = m->sp - *base;
    m->sp = *base;
    return 0;
}

static int add_items(vm *m, val *c, val **items, size_t n) {
    if (n == 0) return 0;
    if (grow(&c->items, &c->cap, c->n + n, sizeof *c->items)) return ERR(FT_ENOMEM, "out of memory");
    memcpy(c->items + c->n, items, n * sizeof *items);
    c->n += n;
    return 0;
}

static int make_tuple(vm *m, val **items, size_t n) {
    val *t = mk(m, V_TUPLE);
    if (!t) return ERR(FT_ENOMEM, "out of memory");
    val *copy[3];
    if (n && n <= 3) memcpy(copy, items, n * sizeof *items), items = copy; /* items may alias the stack */
    FT_TRY(add_items(m, t, items, n));
    return push(m, t);
}

static int need(vm *m, size_t n) {
    if ((size_t)(m->end - m->p) < n) return ERR(FT_EEOF, "truncated (opcode needs %zu more bytes)", n);
    return 0;
}

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int push_str(vm *m, size_t len) {
    FT_TRY(need(m, len));
    if (ft_utf8_check((const char *)m->p, len) != len) return ERR(FT_EPARSE, "string is not valid UTF-8");
    val *v = mk(m, V_STR);
    if (!v) return ERR(FT_ENOMEM, "out of memory");
    v->s = (const char *)m->p;
    v->len = len;
    m->p += len;
    return push(m, v);
}

static int push_int(vm *m, int64_t i, vkind kind) {
    val *v = mk(m, kind);
    if (!v) return ERR(FT_ENOMEM, "out of memory");
    v->i = i;
    return push(m, v);
}

static int push_global(vm *m, const char *mod, size_t mlen, const char *name, size_t nlen) {
    for (size_t g = 0; g < N_GLOBALS; g++)
        if (strlen(g_globals[g].module) == mlen && !memcmp(g_globals[g].module, mod, mlen) &&
            strlen(g_globals[g].name) == nlen && !memcmp(g_globals[g].name, name, nlen))
            return push_int(m, (int64_t)g, V_GLOBAL);
    return ERR(FT_EFORMAT, "global '%.*s.%.*s' is not allowed (a state dict needs only tensors and storages)",
               (int)(mlen > 100 ? 100 : mlen), mod, (int)(nlen > 100 ? 100 : nlen), name);
}

static int memo_put(vm *m, uint64_t idx) {
    val *v;
    FT_TRY(top(m, &v));
    if (idx > (uint64_t)(m->end - m->start)) return ERR(FT_ERANGE, "memo index %llu too large", (unsigned long long)idx);
    if (grow(&m->memo, &m->cap_memo, (size_t)idx + 1, sizeof *m->memo)) return ERR(FT_ENOMEM, "out of memory");
    if (idx >= m->n_memo) {
        for (size_t i = m->n_memo; i <= idx; i++) m->memo[i] = NULL;
        m->n_memo = (size_t)idx + 1;
    }
    m->memo[idx] = v;
    return 0;
}

static int memo_get(vm *m, uint64_t idx) {
    if (idx >= m->n_memo || !m->memo[idx]) return ERR(FT_EPARSE, "memo index %llu was never set", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

static int is_int(const val *v) { return v->kind == V_INT || v->kind == V_BOOL; }

/* Reads a tuple of non-negative ints (a size or a stride) into d; returns its length or -1. */
static int int_tuple(const val *t, int64_t *d) {
    if (t->kind != V_TUPLE || t->n > FT_TENSOR_MAX_DIMS) return -1;
    for (size_t i = 0; i < t->n; i++) {
        if (!is_int(t->items[i]) || t->items[i]->i < 0) return -1;
        d[i] = t->items[i]->i;
    }
    return (int)t->n;
}

/* torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
 * [, metadata]). */
static int rebuild_tensor(vm *m, const val *args) {
    if (args->n != 6 && args->n != 7) return ERR(FT_EFORMAT, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu", args->n);
    val *st = args->items[0], *off = args->items[1];
    int64_t shape[FT_TENSOR_MAX_DIMS], stride[FT_TENSOR_MAX_DIMS];
    if (st->kind != V_STORAGE) return ERR(FT_EFORMAT, "_rebuild_tensor_v2: first argument is a %s, not a storage", g_kind_names[st->kind]);
    if (!is_int(off) || off->i < 0) return ERR(FT_EFORMAT, "_rebuild_tensor_v2: bad storage offset");
    int nd = int_tuple(args->items[2], shape), ns = int_tuple(args->items[3], stride);
    if (nd < 0 || ns != nd) return ERR(FT_EFORMAT, "_rebuild_tensor_v2: size and stride must be tuples of at most %d sizes of the same length", FT_TENSOR_MAX_DIMS);
    ft_tensor t = {.dtype = st->dtype};
    if (ft_tensor_set_shape(&t, nd, shape) != 0) return ERR(FT_ERANGE, "tensor size overflows");
    if (t.numel > 0) {
        int64_t expect = 1;
        for (int d = nd - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expect)
                return ERR(FT_EFORMAT, "tensor is not contiguous (dim %d has stride %lld, want %lld)", d, (long long)stride[d], (long long)expect);
            expect *= shape[d];
        }
    }
    if ((uint64_t)off->i > st->numel || t.numel > st->numel - (uint64_t)off->i)
        return ERR(FT_ERANGE, "tensor of %llu elements at offset %lld is outside its storage of %llu elements",
                   (unsigned long long)t.numel, (long long)off->i, (unsigned long long)st->numel);
    val *v = mk(m, V_TENSOR);
    tens *tp = v ? calloc(1, sizeof *tp) : NULL;
    if (!tp) return ERR(FT_ENOMEM, "out of memory");
    v->t = tp;
    tp->storage = st;
    tp->offset = (uint64_t)off->i;
    tp->ndim = nd;
    memcpy(tp->shape, shape, (size_t)nd * sizeof *shape);
    return push(m, v);
}

static int reduce(vm *m) {
    val *args = NULL, *fn = NULL;
    FT_TRY(pop(m, &args));
    FT_TRY(pop(m, &fn));
    if (fn->kind != V_GLOBAL) return ERR(FT_EFORMAT, "REDUCE on a %s, not an allowed callable", g_kind_names[fn->kind]);
    if (args->kind != V_TUPLE) return ERR(FT_EFORMAT, "REDUCE arguments are not a tuple");
    switch (g_globals[fn->i].kind) {
    case G_ORDEREDDICT:
        if (args->n != 0) return ERR(FT_EFORMAT, "OrderedDict called with arguments");
        return push(m, mk(m, V_DICT));
    case G_REBUILD_TENSOR_V2: return rebuild_tensor(m, args);
    case G_REBUILD_PARAMETER:
        if (args->n != 3 || args->items[0]->kind != V_TENSOR)
            return ERR(FT_EFORMAT, "_rebuild_parameter needs (tensor, requires_grad, hooks)");
        return push(m, args->items[0]);
    default:
        return ERR(FT_EFORMAT, "torch.%s cannot be called", g_globals[fn->i].name);
    }
}

/* BINPERSID: ('storage', StorageClass, key, location, numel) */
static int persistent_load(vm *m) {
    val *pid = NULL;
    FT_TRY(pop(m, &pid));
    if (pid->kind != V_TUPLE || pid->n != 5)
        return ERR(FT_EFORMAT, "persistent id is not a ('storage', type, key, location, numel) tuple");
    val **it = pid->items;
    if (it[0]->kind != V_STR || it[0]->len != 7 || memcmp(it[0]->s, "storage", 7))
        return ERR(FT_EFORMAT, "persistent id is not a storage");
    if (it[1]->kind != V_GLOBAL || g_globals[it[1]->i].kind != G_STORAGE)
        return ERR(FT_EFORMAT, "persistent id names no storage class");
    if (it[2]->kind != V_STR || it[2]->len == 0 || memchr(it[2]->s, '/', it[2]->len) || memchr(it[2]->s, 0, it[2]->len) ||
        it[3]->kind != V_STR ||
        !is_int(it[4]) || it[4]->i < 0)
        return ERR(FT_EFORMAT, "persistent id has a bad key, location or size");
    val *v = mk(m, V_STORAGE);
    if (!v) return ERR(FT_ENOMEM, "out of memory");
    v->dtype = g_globals[it[1]->i].dtype;
    v->s = it[2]->s;
    v->len = it[2]->len;
    v->numel = (uint64_t)it[4]->i;
    return push(m, v);
}

static int set_items(vm *m, size_t base, size_t n) {
    val *d = NULL;
    FT_TRY(top(m, &d));
    if (d->kind != V_DICT) return ERR(FT_EFORMAT, "SETITEM(S) on a %s, not a dict", g_kind_names[d->kind]);
    if (n % 2) return ERR(FT_EPARSE, "SETITEMS with an odd number of values");
    return add_items(m, d, m->stack + base, n);
}

static int append_items(vm *m, size_t base, size_t n) {
    val *l = NULL;
    FT_TRY(top(m, &l));
    if (l->kind != V_LIST) return ERR(FT_EFORMAT, "APPEND(S) on a %s, not a list", g_kind_names[l->kind]);
    return add_items(m, l, m->stack + base, n);
}

/* Runs one opcode; 1 at STOP with the result in *result. */
static int step(vm *m, val **result) {
    FT_TRY(need(m, 1));
    m->op_at = (size_t)(m->p - m->start);
    unsigned char op = *m->p++;
    val *a = NULL, *b = NULL;
    size_t base = 0, n = 0;
    switch (op) {
    case 0x80: /* PROTO */
        FT_TRY(need(m, 1));
        if (*m->p > 5) return ERR(FT_EFORMAT, "pickle protocol %u is not supported", *m->p);
        m->p++;
        return 0;
    case 0x95: FT_TRY(need(m, 8)); m->p += 8; return 0; /* FRAME: a buffering hint */
    case '.': FT_TRY(pop(m, result)); return 1;         /* STOP */
    case '(':                                             /* MARK */
        if (grow(&m->marks, &m->cap_marks, m->n_marks + 1, sizeof *m->marks)) return ERR(FT_ENOMEM, "out of memory");
        m->marks[m->n_marks++] = m->sp;
        return 0;
    case '0': return pop(m, &a);                     /* POP */
    case '1': return pop_mark(m, &base, &n);         /* POP_MARK */
    case '2': FT_TRY(top(m, &a)); return push(m, a); /* DUP */
    case 'N': return push(m, mk(m, V_NONE));
    case 0x88: return push_int(m, 1, V_BOOL);
    case 0x89: return push_int(m, 0, V_BOOL);
    case 'J': FT_TRY(need(m, 4)); m->p += 4; return push_int(m, (int32_t)(uint32_t)le(m->p - 4, 4), V_INT);
    case 'K': FT_TRY(need(m, 1)); m->p += 1; return push_int(m, m->p[-1], V_INT);
    case 'M': FT_TRY(need(m, 2)); m->p += 2; return push_int(m, (int64_t)le(m->p - 2, 2), V_INT);
    case 0x8a: /* LONG1: little-endian two's complement of n <= 8 bytes */
        FT_TRY(need(m, 1));
        n = *m->p++;
        if (n > 8) return ERR(FT_ERANGE, "integer of %zu bytes is too large", n);
        FT_TRY(need(m, n));
        {
            uint64_t u = le(m->p, (int)n);
            if (n && n < 8 && (m->p[n - 1] & 0x80)) u |= ~UINT64_C(0) << (8 * n);
            m->p += n;
            return push_int(m, (int64_t)u, V_INT);
        }
    case 'G': /* BINFLOAT: big-endian double */
        FT_TRY(need(m, 8));
        a = mk(m, V_FLOAT);
        m->p += 8;
        return push(m, a);
    case 'X': FT_TRY(need(m, 4)); m->p += 4; return push_str(m, (size_t)le(m->p - 4, 4));
    case 0x8c: FT_TRY(need(m, 1)); m->p += 1; return push_str(m, m->p[-1]);
    case 0x8d: {
        FT_TRY(need(m, 8));
        uint64_t len = le(m->p, 8);
        m->p += 8;
        if (len > (uint64_t)(m->end - m->p)) return ERR(FT_EEOF, "string runs past the end");
        return push_str(m, (size_t)len);
    }
    case ')': return make_tuple(m, NULL, 0);
    case 0x85: case 0x86: case 0x87: /* TUPLE1..3 */
        n = (size_t)(op - 0x84);
        if (m->sp - frame_base(m) < n) return ERR(FT_EPARSE, "stack underflow");
        m->sp -= n;
        return make_tuple(m, m->stack + m->sp, n);
    case 't': FT_TRY(pop_mark(m, &base, &n)); return make_tuple(m, m->stack + base, n);
    case ']': return push(m, mk(m, V_LIST));
    case '}': return push(m, mk(m, V_DICT));
    case 'l': case 'd': {
        FT_TRY(pop_mark(m, &base, &n));
        if (op == 'd' && n % 2) return ERR(FT_EPARSE, "DICT with an odd number of values");
        a = mk(m, op == 'l' ? V_LIST : V_DICT);
        if (!a) return ERR(FT_ENOMEM, "out of memory");
        FT_TRY(add_items(m, a, m->stack + base, n));
        return push(m, a);
    }
    case 'a': FT_TRY(pop(m, &a)); FT_TRY(push(m, a)); return append_items(m, --m->sp, 1);
    case 'e': FT_TRY(pop_mark(m, &base, &n)); return append_items(m, base, n);
    case 's':
        if (m->sp - frame_base(m) < 3) return ERR(FT_EPARSE, "stack underflow");
        m->sp -= 2;
        return set_items(m, m->sp, 2);
    case 'u': FT_TRY(pop_mark(m, &base, &n)); return set_items(m, base, n);
    case 'c': { /* GLOBAL module\nname\n */
        const unsigned char *nl1 = memchr(m->p, '\n', (size_t)(m->end - m->p));
        const unsigned char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(m->end - nl1 - 1)) : NULL;
        if (!nl2) return ERR(FT_EEOF, "GLOBAL without two lines");
        const char *mod = (const char *)m->p, *name = (const char *)nl1 + 1;
        m->p = nl2 + 1;
        return push_global(m, mod, (size_t)((const char *)nl1 - mod), name, (size_t)((const char *)nl2 - name));
    }
    case 0x93: /* STACK_GLOBAL */
        FT_TRY(pop(m, &b));
        FT_TRY(pop(m, &a));
        if (a->kind != V_STR || b->kind != V_STR) return ERR(FT_EPARSE, "STACK_GLOBAL needs two strings");
        return push_global(m, a->s, a->len, b->s, b->len);
    case 'R': return reduce(m);
    case 'b': /* BUILD: the state of an OrderedDict (its _metadata attribute) is dropped */
        FT_TRY(pop(m, &a));
        FT_TRY(top(m, &b));
        if (b->kind != V_DICT) return ERR(FT_EFORMAT, "BUILD on a %s (only a dict's attributes are accepted)", g_kind_names[b->kind]);
        return 0;
    case 'Q': return persistent_load(m);
    case 'q': FT_TRY(need(m, 1)); m->p += 1; return memo_put(m, m->p[-1]);
    case 'r': FT_TRY(need(m, 4)); m->p += 4; return memo_put(m, le(m->p - 4, 4));
    case 0x94: return memo_put(m, m->n_memo);
    case 'h': FT_TRY(need(m, 1)); m->p += 1; return memo_get(m, m->p[-1]);
    case 'j': FT_TRY(need(m, 4)); m->p += 4; return memo_get(m, le(m->p - 4, 4));
    default:
        if (op >= 0x20 && op < 0x7f) return ERR(FT_EFORMAT, "pickle opcode '%c' (0x%02x) is not allowed", op, op);
        return ERR(FT_EFORMAT, "pickle opcode 0x%02x is not allowed", op);
    }
}

static char *dup_str(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = 0;
    return d;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const ft_pickle_tensor *const *)a)->name, (*(const ft_pickle_tensor *const *)b)->name);
}

static int collect(vm *m, const val *res, ft_state_dict *sd) {
    m->op_at = (size_t)(m->p - m->start);
    if (res->kind != V_DICT) return ERR(FT_EFORMAT, "the pickle holds a %s, not a state dict", g_kind_names[res->kind]);
    size_t count = res->n / 2;
    sd->tensors = calloc(count ? count : 1, sizeof *sd->tensors);
    if (!sd->tensors) return ERR(FT_ENOMEM, "out of memory");
    for (size_t k = 0; k < count; k++) {
        const val *key = res->items[2 * k], *v = res->items[2 * k + 1];
        if (key->kind != V_STR || memchr(key->s, 0, key->len))
            return ERR(FT_EFORMAT, "state dict key %zu is not a string", k);
        if (v->kind != V_TENSOR)
            return ERR(FT_EFORMAT, "state dict entry '%.*s' is a %s, not a tensor", (int)(key->len > 200 ? 200 : key->len), key->s, g_kind_names[v->kind]);
        ft_pickle_tensor *t = &sd->tensors[sd->count++];
        t->name = dup_str(key->s, key->len);
        t->storage = dup_str(v->t->storage->s, v->t->storage->len);
        if (!t->name || !t->storage) return ERR(FT_ENOMEM, "out of memory");
        t->dtype = v->t->storage->dtype;
        t->storage_numel = v->t->storage->numel;
        t->offset = v->t->offset;
        t->ndim = v->t->ndim;
        memcpy(t->shape, v->t->shape, sizeof t->shape);
    }
    const ft_pickle_tensor **order = malloc((count ? count : 1) * sizeof *order);
    if (!order) return ERR(FT_ENOMEM, "out of memory");
    for (size_t k = 0; k < count; k++) order[k] = &sd->tensors[k];
    qsort(order, count, sizeof *order, by_name);
    int rc = 0;
    for (size_t k = 1; k < count && rc == 0; k++)
        if (!strcmp(order[k - 1]->name, order[k]->name)) rc = ERR(FT_EFORMAT, "state dict key '%s' appears twice", order[k]->name);
    free(order);
    return rc;
}

int ft_pickle_state_dict(const void *data, size_t size, ft_state_dict *sd, ft_buf *why) {
    memset(sd, 0, sizeof *sd);
    if (size > FT_PICKLE_MAX_SIZE) return ft_fail(why, FT_ETOOBIG, "data.pkl of %zu bytes exceeds the limit", size);
    vm vm0 = {.start = data, .p = data, .end = (const unsigned char *)data + size, .why = why}, *m = &vm0;
    val *result = NULL;
    int rc = 0;
    /* the stack always exists, so m->stack + base is never arithmetic on NULL */
    if (grow(&m->stack, &m->cap_stack, 16, sizeof *m->stack)) rc = ft_fail(why, FT_ENOMEM, "out of memory");
    while (rc == 0 && (rc = step(m, &result)) == 0) {}
    if (rc == 1) rc = collect(m, result, sd);
    for (size_t i = 0; i < m->n_all; i++) {
        free(m->all[i]->items);
        free(m->all[i]->t);
        free(m->all[i]);
    }
    free(m->all);
    free(m->stack);
    free(m->marks);
    free(m->memo);
    if (rc) ft_state_dict_release(sd);
    return rc;
}

void ft_state_dict_release(ft_state_dict *sd) {
    for (size_t i = 0; i < sd->count; i++) {
        free(sd->tensors[i].name);
        free(sd->tensors[i].storage);
    }
    free(sd->tensors);
    memset(sd, 0, sizeof *sd);
}
