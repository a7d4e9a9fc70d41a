/* task.c: the C-Eval, CMMLU and MMLU directories as their SOURCE.md files describe them, read into subjects
 * with their dev rows and the questions of one split.
 * Rule: fields are taken exactly as a CSV reader gives them (pandas sees the same text for these files); a
 * row that does not fit its header is listed as bad and left out, never guessed at. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "csv.h"
#include "eval.h"
#include "json.h"

const char *const ev_task_names[] = {"ceval", "cmmlu", "mmlu", NULL};

const char *const ev_ceval_hard[] = {
    "advanced_mathematics",  "discrete_mathematics", "probability_and_statistics",
    "college_chemistry",     "college_physics",      "high_school_mathematics",
    "high_school_chemistry", "high_school_physics",  NULL};

/* The splits each task's directory can hold; the first is the default. */
static const char *const splits_of[EV_NTASKS][3] = {
    [EV_CEVAL] = {"val", "test", NULL},
    [EV_CMMLU] = {"test", NULL, NULL},
    [EV_MMLU] = {"test", "val", NULL},
};

const char *ev_default_split(ev_task t) { return splits_of[t][0]; }

/* Category names in report order; "Social Science" (hkust-nlp's spelling) is the same category. */
static const char *const known_categories[] = {"STEM", "Social Sciences", "Humanities", "Other"};

static void item_release(ev_item *it) {
    free(it->id), free(it->q);
    for (int k = 0; k < 4; k++) free(it->opt[k]);
}

static void items_free(ev_item *v, size_t n) {
    for (size_t i = 0; i < n; i++) item_release(&v[i]);
    free(v);
}

void ev_set_release(ev_set *set) {
    for (size_t i = 0; i < set->nsubj; i++) {
        ev_subject *s = &set->subj[i];
        free(s->handle), free(s->name);
        items_free(s->dev, s->ndev);
        items_free(s->items, s->nitems);
    }
    free(set->subj);
    for (size_t i = 0; i < set->nbad; i++) free(set->bad[i].file), free(set->bad[i].why);
    free(set->bad);
    free(set->split);
    for (int i = 0; i < set->ncategories; i++) free(set->categories[i]);
    memset(set, 0, sizeof *set);
}

size_t ev_set_questions(const ev_set *set) {
    size_t n = 0;
    for (size_t i = 0; i < set->nsubj; i++) n += set->subj[i].nitems;
    return n;
}

static void add_bad(ev_set *set, const char *file, uint64_t line, const char *why) {
    set->bad = ft_xrealloc(set->bad, (set->nbad + 1) * sizeof *set->bad);
    set->bad[set->nbad++] = (ev_bad){ft_xstrdup(file), line, ft_xstrdup(why)};
}

static int category_index(ev_set *set, const char *name) {
    if (!strcmp(name, "Social Science")) name = "Social Sciences";
    for (int i = 0; i < set->ncategories; i++)
        if (!strcmp(set->categories[i], name)) return i;
    return -1;
}

/* Column positions of a file: id (-1 = the row number), question, A..D, answer (-1 = none). */
typedef struct {
    int id, q, opt[4], answer, nfields;
} columns;

static int find_column(const ft_csv_record *h, const char *name) {
    for (size_t i = 0; i < h->nfields; i++)
        if (!strcasecmp(h->field[i], name)) return (int)i;
    return -1;
}

/* The columns named by the header row h (C-Eval: id,question,A,B,C,D,answer[,explanation]; CMMLU: an unnamed
 * index column, Question, A..D, Answer). */
static int header_columns(const ft_csv_record *h, columns *c, const char *path, ft_buf *why) {
    c->nfields = (int)h->nfields;
    c->id = find_column(h, "id");
    if (c->id < 0 && h->nfields && h->len[0] == 0) c->id = 0;
    c->q = find_column(h, "question");
    c->answer = find_column(h, "answer");
    for (int k = 0; k < 4; k++) c->opt[k] = find_column(h, (const char[]){(char)('A' + k), 0});
    if (c->q < 0 || c->opt[0] < 0 || c->opt[1] < 0 || c->opt[2] < 0 || c->opt[3] < 0)
        return ft_fail(why, FT_EPARSE, "%s:%llu: header has no question, A, B, C and D columns", path,
                       (unsigned long long)h->lineno);
    return 0;
}

/* Reads the rows of one CSV file into *items. Returns 0 (bad rows go to set->bad) or FT_EIO / FT_EPARSE. */
static int read_csv(ev_set *set, const char *path, int need_answer, ev_item **items, size_t *nitems,
                    ft_buf *why) {
    ft_lines *L;
    if (ft_lines_open(path, 0, &L) < 0)
        return ft_fail(why, FT_EIO, "cannot open '%s': %s", path, strerror(errno));
    ft_csv *csv = ft_csv_new(L, ',');
    ft_csv_record rec;
    columns c;
    int rc, have_header = set->task == EV_MMLU;
    if (have_header) c = (columns){-1, 0, {1, 2, 3, 4}, 5, 6};
    size_t row = 0, cap = 0;
    ev_item *v = NULL;
    char msg[160];
    while ((rc = ft_csv_next(csv, &rec)) != 0) {
        if (rc == FT_EIO) {
            rc = ft_fail(why, FT_EIO, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (rc < 0) {
            snprintf(msg, sizeof msg, "%s", rc == FT_EPARSE ? ft_csv_error(csv) : ft_strerror(rc));
            add_bad(set, path, rec.lineno, msg);
            continue;
        }
        if (!have_header) {
            if ((rc = header_columns(&rec, &c, path, why)) < 0) goto out;
            have_header = 1;
            continue;
        }
        uint64_t n = row++;
        if ((int)rec.nfields != c.nfields) {
            snprintf(msg, sizeof msg, "%zu fields, the header has %d", rec.nfields, c.nfields);
            add_bad(set, path, rec.lineno, msg);
            continue;
        }
        char answer = 0;
        if (c.answer >= 0) {
            const char *a = rec.field[c.answer];
            if (rec.len[c.answer] != 1 || a[0] < 'A' || a[0] > 'D') {
                snprintf(msg, sizeof msg, "answer '%.20s' is not A, B, C or D", a);
                add_bad(set, path, rec.lineno, msg);
                continue;
            }
            answer = a[0];
        } else if (need_answer) {
            rc = ft_fail(why, FT_EPARSE, "%s: no answer column (the few-shot rows need their answers)", path);
            goto out;
        }
        if (*nitems == cap) v = ft_xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
        ev_item *it = &v[(*nitems)++];
        if (c.id >= 0) it->id = ft_xstrdup(rec.field[c.id]);
        else {
            snprintf(msg, sizeof msg, "%llu", (unsigned long long)n);
            it->id = ft_xstrdup(msg);
        }
        it->q = ft_xstrdup(rec.field[c.q]);
        for (int k = 0; k < 4; k++) it->opt[k] = ft_xstrdup(rec.field[c.opt[k]]);
        it->answer = answer;
        it->line = rec.lineno;
    }
    rc = 0;
out:
    *items = v;
    ft_csv_free(csv);
    ft_lines_free(L);
    return rc;
}

/* The file of subject h in folder split: {h}_{split}.csv (C-Eval, MMLU) or {h}.csv (CMMLU). */
static void subject_path(ft_buf *p, ev_task t, const char *dir, const char *split, const char *h) {
    ft_buf_clear(p);
    if (t == EV_CMMLU) ft_buf_addf(p, "%s/%s/%s.csv", dir, split, h);
    else ft_buf_addf(p, "%s/%s/%s_%s.csv", dir, split, h, split);
}

/* Whether handle h is in the comma-separated list (NULL = everything). */
static int listed(const char *list, const char *h) {
    if (!list) return 1;
    size_t n = strlen(h);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && !memcmp(p, h, n)) return 1;
        p += k + (e != NULL);
    }
    return 0;
}

/* Every handle in list must be in mapping.json. */
static int check_list(const cJSON *map, const char *list, const char *mpath, ft_buf *why) {
    if (!list) return 0;
    if (!*list) return ft_fail(why, FT_EINVAL, "empty subject list");
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (const cJSON *m = map->child; m && !found; m = m->next)
            found = strlen(m->string) == k && !memcmp(m->string, p, k);
        if (!found) return ft_fail(why, FT_EINVAL, "unknown subject '%.*s' (not in %s)", (int)k, p, mpath);
        if (!e) return 0;
        p = e + 1;
    }
}

static int load_mapping(const char *dir, cJSON **map, ft_buf *path, ft_buf *why) {
    ft_buf_clear(path);
    ft_buf_addf(path, "%s/mapping.json", dir);
    char *text;
    size_t n, off;
    FT_TRY(ft_read_file(path->data, 1u << 24, &text, &n, why));
    int rc = ft_json_parse(text, n, map, &off);
    free(text);
    if (rc < 0) return ft_fail(why, FT_EPARSE, "%s: malformed JSON at byte %zu", path->data, off);
    if (!cJSON_IsObject(*map) || !(*map)->child) {
        cJSON_Delete(*map);
        *map = NULL;
        return ft_fail(why, FT_EPARSE, "%s: not an object of subjects", path->data);
    }
    return 0;
}

int ev_set_load(ev_set *set, ev_task task, const char *dir, const char *split, const char *subjects,
                ft_buf *why) {
    memset(set, 0, sizeof *set);
    set->task = task;
    if (!split) split = ev_default_split(task);
    int ok = 0;
    for (int i = 0; splits_of[task][i]; i++) ok |= !strcmp(split, splits_of[task][i]);
    if (!ok)
        return ft_fail(why, FT_EINVAL, "unknown split '%s' for %s (%s%s%s)", split, ev_task_names[task],
                       splits_of[task][0], splits_of[task][1] ? ", " : "",
                       splits_of[task][1] ? splits_of[task][1] : "");
    set->split = ft_xstrdup(split);
    for (int i = 0; i < 4; i++) set->categories[set->ncategories++] = ft_xstrdup(known_categories[i]);
    struct stat st;
    int st_rc = stat(dir, &st);
    if (st_rc < 0 || !S_ISDIR(st.st_mode)) {
        const char *reason = st_rc < 0 ? strerror(errno) : "not a directory";
        ev_set_release(set);
        return ft_fail(why, FT_EIO, "cannot open data directory '%s': %s", dir, reason);
    }
    ft_buf path;
    ft_buf_init(&path);
    cJSON *map = NULL;
    int rc = load_mapping(dir, &map, &path, why);
    if (rc < 0) goto out;
    if ((rc = check_list(map, subjects, path.data, why)) < 0) goto out;
    size_t n = 0;
    for (const cJSON *m = map->child; m; m = m->next) n += listed(subjects, m->string);
    set->subj = ft_xmalloc(n * sizeof *set->subj);
    memset(set->subj, 0, n * sizeof *set->subj);
    for (const cJSON *m = map->child; m; m = m->next) {
        if (!listed(subjects, m->string)) continue;
        const char *name = ft_json_str(m, "name"), *cat = ft_json_str(m, "category");
        if (!name || !cat) {
            rc = ft_fail(why, FT_EPARSE, "%s/mapping.json: subject '%s' lacks a name or category string", dir,
                         m->string);
            goto out;
        }
        ev_subject *s = &set->subj[set->nsubj++];
        s->handle = ft_xstrdup(m->string);
        s->name = ft_xstrdup(name);
        if ((s->category = category_index(set, cat)) < 0) {
            if (set->ncategories == EV_MAX_CATEGORIES) {
                rc = ft_fail(why, FT_EPARSE, "%s/mapping.json: more than %d categories", dir,
                             EV_MAX_CATEGORIES);
                goto out;
            }
            set->categories[set->ncategories] = ft_xstrdup(cat);
            s->category = set->ncategories++;
        }
        for (int h = 0; task == EV_CEVAL && ev_ceval_hard[h]; h++)
            s->hard |= !strcmp(ev_ceval_hard[h], s->handle);
        subject_path(&path, task, dir, "dev", s->handle);
        if ((rc = read_csv(set, path.data, 1, &s->dev, &s->ndev, why)) < 0) goto out;
        subject_path(&path, task, dir, split, s->handle);
        if ((rc = read_csv(set, path.data, 0, &s->items, &s->nitems, why)) < 0) goto out;
    }
    rc = 0;
out:
    if (rc < 0) ev_set_release(set);
    cJSON_Delete(map);
    ft_buf_release(&path);
    return rc;
}
