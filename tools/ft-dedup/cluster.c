/* cluster.c: ft-dedup cluster: streaming mode's decisions from signature files, one band at a time, and
 * the duplicate list that ft-dedup filter applies to each shard.
 * Rule: candidate pairs are found per band (sort by band key), verified with the same test as streaming
 * mode, and resolved in global order by the same rule: the lowest *kept* verified record is the keeper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "json.h"
#include "lines.h"

typedef struct {
    uint64_t key, g;
} entry;
typedef struct {
    uint64_t d, k; /* d > k */
    double sim;
} edge;

static int cmp_entry(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->g > y->g) - (x->g < y->g);
}
static int cmp_edge(const void *a, const void *b) {
    const edge *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}
typedef struct {
    uint64_t e0, e1, g;
} exact_entry;
static int cmp_exact(const void *a, const void *b) {
    const exact_entry *x = a, *y = b;
    if (x->e0 != y->e0) return x->e0 < y->e0 ? -1 : 1;
    if (x->e1 != y->e1) return x->e1 < y->e1 ? -1 : 1;
    return (x->g > y->g) - (x->g < y->g);
}

void dedup_clustering_locate(const dedup_clustering *c, uint64_t g, size_t *file, uint64_t *rec) {
    size_t lo = 0, hi = c->nfiles; /* the last file whose base is <= g */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (c->base[mid] <= g) lo = mid;
        else hi = mid;
    }
    *file = lo;
    *rec = g - c->base[lo];
}

static void record(dedup_sigfile *const *files, const dedup_clustering *c, uint64_t g, dedup_sigrec *r) {
    size_t f;
    uint64_t i;
    dedup_clustering_locate(c, g, &f, &i);
    dedup_sigfile_record(files[f], i, r);
}

void dedup_clustering_release(dedup_clustering *c) {
    free(c->kind), free(c->dup_of), free(c->sim), free(c->base);
    memset(c, 0, sizeof *c);
}

int dedup_cluster(dedup_sigfile *const *files, size_t nfiles, const dedup_params *p, dedup_clustering *c) {
    memset(c, 0, sizeof *c);
    c->nfiles = nfiles;
    c->base = ft_xmalloc((nfiles + 1) * sizeof *c->base);
    c->base[0] = 0;
    for (size_t f = 0; f < nfiles; f++) c->base[f + 1] = c->base[f] + dedup_sigfile_count(files[f]);
    uint64_t n = c->n = c->base[nfiles];
    c->kind = ft_xmalloc(n ? n : 1);
    c->dup_of = ft_xmalloc((n ? n : 1) * sizeof *c->dup_of);
    c->sim = ft_xmalloc((n ? n : 1) * sizeof *c->sim);
    uint8_t *sk = ft_xmalloc(n ? n : 1); /* SIG_* of each record */
    for (uint64_t g = 0; g < n; g++) {
        dedup_sigrec r;
        record(files, c, g, &r);
        sk[g] = (uint8_t)r.kind;
        c->dup_of[g] = UINT64_MAX; /* exact leader of a follower, filled below */
    }

    /* Exact groups: every record after the first of its group follows the first (the leader). */
    exact_entry *ex = malloc((n ? n : 1) * sizeof *ex);
    if (!ex) return free(sk), FT_ENOMEM;
    uint64_t nex = 0;
    for (uint64_t g = 0; g < n; g++)
        if (sk[g] == SIG_DOC || sk[g] == SIG_NOTOK) {
            dedup_sigrec r;
            record(files, c, g, &r);
            ex[nex++] = (exact_entry){r.exact[0], r.exact[1], g};
        }
    if (nex) qsort(ex, nex, sizeof *ex, cmp_exact);
    for (uint64_t i = 1; i < nex; i++)
        if (ex[i].e0 == ex[i - 1].e0 && ex[i].e1 == ex[i - 1].e1)
            c->dup_of[ex[i].g] = c->dup_of[ex[i - 1].g] == UINT64_MAX ? ex[i - 1].g : c->dup_of[ex[i - 1].g];
    free(ex);

    /* Band by band: candidate pairs among leaders with tokens, verified. */
    entry *ent = malloc((n ? n : 1) * sizeof *ent);
    if (!ent) return free(sk), FT_ENOMEM;
    edge *edges = NULL;
    size_t nedges = 0, cap_edges = 0;
    for (int b = 0; b < p->bands; b++) {
        uint64_t ne = 0;
        for (uint64_t g = 0; g < n; g++)
            if (sk[g] == SIG_DOC && c->dup_of[g] == UINT64_MAX) {
                dedup_sigrec r;
                record(files, c, g, &r);
                ent[ne++] = (entry){dedup_band_key(r.csig, b, p->rows, p->seed), g};
            }
        if (ne) qsort(ent, ne, sizeof *ent, cmp_entry);
        for (uint64_t i = 0; i < ne;) {
            uint64_t j = i + 1;
            while (j < ne && ent[j].key == ent[i].key) j++;
            for (uint64_t x = i + 1; x < j; x++) {
                dedup_sigrec rd;
                record(files, c, ent[x].g, &rd);
                for (uint64_t y = i; y < x; y++) {
                    dedup_sigrec rk;
                    record(files, c, ent[y].g, &rk);
                    if (!dedup_band_equal(rk.csig, rd.csig, b, p->rows)) continue;
                    c->pairs++;
                    double sim = dedup_similarity(p, rk.csig, rd.csig, rk.shingles, rk.nshingles, rd.shingles,
                                                  rd.nshingles);
                    if (!dedup_passes(p, sim)) continue;
                    if (nedges == cap_edges) {
                        cap_edges = cap_edges ? 2 * cap_edges : 1024;
                        edges = ft_xrealloc(edges, cap_edges * sizeof *edges);
                    }
                    edges[nedges++] = (edge){ent[x].g, ent[y].g, sim};
                }
            }
            i = j;
        }
    }
    free(ent);
    if (nedges) qsort(edges, nedges, sizeof *edges, cmp_edge);
    c->verified = nedges;

    /* Global order: the same rule as the streaming index. */
    size_t e = 0;
    for (uint64_t g = 0; g < n; g++) {
        c->sim[g] = 0;
        uint64_t lead = c->dup_of[g];
        if (sk[g] == SIG_REJECT) c->kind[g] = DECIDE_REJECT;
        else if (sk[g] == SIG_EMPTY) c->kind[g] = DECIDE_EMPTY;
        else if (lead != UINT64_MAX) {
            if (c->kind[lead] == DECIDE_KEPT) c->kind[g] = DECIDE_EXACT, c->sim[g] = 1;
            else c->kind[g] = DECIDE_NEAR, c->dup_of[g] = c->dup_of[lead], c->sim[g] = c->sim[lead];
        } else {
            c->kind[g] = DECIDE_KEPT;
            while (e < nedges && edges[e].d < g) e++;
            for (; e < nedges && edges[e].d == g; e++)
                if (c->kind[g] == DECIDE_KEPT && c->kind[edges[e].k] == DECIDE_KEPT)
                    c->kind[g] = DECIDE_NEAR, c->dup_of[g] = edges[e].k, c->sim[g] = edges[e].sim;
        }
    }
    free(edges);
    free(sk);
    return 0;
}

/* ---- the list ---------------------------------------------------------------------------------- */

static void put_where(ft_buf *b, const char *name, uint64_t line) {
    ft_buf tmp;
    ft_buf_init(&tmp);
    ft_buf_addf(&tmp, "%s:%llu", name, (unsigned long long)line);
    ft_buf_clear(b);
    ft_json_put_string(b, tmp.data, tmp.len);
    ft_buf_release(&tmp);
}

int dedup_list_write(FILE *f, dedup_sigfile *const *files, const dedup_clustering *c) {
    ft_buf l, w;
    ft_buf_init(&l);
    ft_buf_init(&w);
    for (size_t k = 0; k < c->nfiles; k++) {
        ft_buf_clear(&l);
        ft_buf_adds(&l, "{\"shard\":");
        const char *name = dedup_sigfile_name(files[k]);
        ft_json_put_string(&l, name, strlen(name));
        ft_buf_addf(&l, ",\"records\":%llu,\"checksum\":\"%016llx\"}\n",
                    (unsigned long long)dedup_sigfile_count(files[k]),
                    (unsigned long long)dedup_sigfile_input_checksum(files[k]));
        fwrite(l.data, 1, l.len, f);
    }
    for (uint64_t g = 0; g < c->n; g++) {
        if (c->kind[g] != DECIDE_EXACT && c->kind[g] != DECIDE_NEAR) continue;
        size_t fk, fd;
        uint64_t ik, id;
        dedup_clustering_locate(c, g, &fd, &id);
        dedup_clustering_locate(c, c->dup_of[g], &fk, &ik);
        dedup_sigrec rk;
        dedup_sigfile_record(files[fk], ik, &rk);
        ft_buf_clear(&l);
        ft_buf_addf(&l, "{\"shard\":%zu,\"index\":%llu,\"global\":%llu,\"kind\":\"%s\",\"similarity\":%.17g,\"dup_of\":",
                    fd, (unsigned long long)id, (unsigned long long)g,
                    c->kind[g] == DECIDE_EXACT ? "exact" : "near", c->sim[g]);
        if (rk.id_len) ft_buf_add(&l, rk.id, rk.id_len);
        else ft_buf_adds(&l, "null");
        ft_buf_addf(&l, ",\"dup_of_index\":%llu,\"dup_of_where\":", (unsigned long long)c->dup_of[g]);
        put_where(&w, dedup_sigfile_name(files[fk]), rk.line);
        ft_buf_add(&l, w.data, w.len);
        ft_buf_adds(&l, "}\n");
        fwrite(l.data, 1, l.len, f);
    }
    ft_buf_release(&l);
    ft_buf_release(&w);
    return ferror(f) ? FT_EIO : 0;
}

void dedup_drops_free(dedup_drop *d, size_t n) {
    for (size_t i = 0; i < n; i++) free(d[i].dup_of), free(d[i].dup_of_where);
    free(d);
}

static int get_u64(const cJSON *o, const char *k, uint64_t *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9007199254740992.0) return 0;
    *v = (uint64_t)x->valuedouble;
    return (double)*v == x->valuedouble;
}

int dedup_list_read(const char *path, const char *name, dedup_drop **drops, size_t *ndrops, uint64_t *records,
                    uint64_t *checksum, const char **why, uint64_t *line) {
    ft_lines *L;
    *drops = NULL, *ndrops = 0, *line = 0;
    if (ft_lines_open(path, 0, &L) < 0) return FT_EIO;
    const char *s;
    size_t n, cap = 0;
    int rc, found = 0, shards = 0;
    uint64_t me = 0;
    dedup_drop *d = NULL;
    *why = NULL;
    while ((rc = ft_lines_next(L, &s, &n)) > 0) {
        *line = ft_lines_lineno(L);
        cJSON *o;
        size_t off;
        if (ft_json_parse(s, n, &o, &off) < 0) {
            *why = "not JSON";
            rc = FT_EPARSE;
            break;
        }
        const char *sh = ft_json_str(o, "shard");
        uint64_t k, idx, g, dg;
        if (sh) {
            const char *cs = ft_json_str(o, "checksum");
            uint64_t nrec;
            if (!cs || !get_u64(o, "records", &nrec)) *why = "bad shard line";
            else if (!strcmp(sh, name)) {
                char *end;
                if (found) *why = "the shard is listed twice";
                found = 1, me = (uint64_t)shards, *records = nrec;
                *checksum = strtoull(cs, &end, 16);
                if (*end) *why = "bad checksum";
            }
            shards++;
        } else if (!get_u64(o, "shard", &k) || !get_u64(o, "index", &idx) || !get_u64(o, "global", &g) ||
                   !get_u64(o, "dup_of_index", &dg)) {
            *why = "bad drop line";
        } else if (found && k == me) {
            const char *kind = ft_json_str(o, "kind"), *where = ft_json_str(o, "dup_of_where");
            const cJSON *sim = cJSON_GetObjectItemCaseSensitive(o, "similarity");
            const cJSON *of = cJSON_GetObjectItemCaseSensitive(o, "dup_of");
            if (!kind || !where || !cJSON_IsNumber(sim) || !of || (strcmp(kind, "exact") && strcmp(kind, "near")))
                *why = "bad drop line";
            else if (*ndrops && idx <= d[*ndrops - 1].index) *why = "drops out of order";
            else {
                if (*ndrops == cap) cap = cap ? 2 * cap : 256, d = ft_xrealloc(d, cap * sizeof *d);
                ft_buf v;
                ft_buf_init(&v);
                ft_json_put_value(&v, of);
                d[*ndrops] = (dedup_drop){idx, g, dg, strcmp(kind, "exact") ? DECIDE_NEAR : DECIDE_EXACT,
                                          sim->valuedouble, v.data ? v.data : ft_xstrdup("null"),
                                          ft_xstrdup(where)};
                (*ndrops)++;
            }
        }
        cJSON_Delete(o);
        if (*why) {
            rc = FT_EFORMAT;
            break;
        }
    }
    ft_lines_free(L);
    if (rc == 0 && !found) *why = "the list has no line for this shard", rc = FT_EFORMAT;
    if (rc < 0) {
        dedup_drops_free(d, *ndrops);
        *ndrops = 0;
        return rc;
    }
    *drops = d;
    return 0;
}
