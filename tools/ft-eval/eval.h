/* eval.h: ft-eval's modules: the benchmark data sets read from their directories (task.c), the few-shot
 * prompts built from them (prompt.c), and the scores gathered and reported (report.c).
 * Rule: these are pure functions of their inputs with no model in them, so the unit tests check prompts and
 * arithmetic byte for byte; main.c owns the tokenizer, the model, files and messages. */
#ifndef FT_EVAL_H
#define FT_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ft.h"

/* ---- data sets (task.c) ----------------------------------------------------------------------------- */

typedef enum { EV_CEVAL, EV_CMMLU, EV_MMLU, EV_NTASKS } ev_task;

/* The task's name ("ceval", "cmmlu", "mmlu") and the split read when --split is not given. */
extern const char *const ev_task_names[];
const char *ev_default_split(ev_task t);

/* One multiple-choice question. */
typedef struct {
    char *id;      /* the id column (C-Eval), the index column (CMMLU), the row number from 0 (MMLU) */
    char *q;       /* question text */
    char *opt[4];  /* options A..D */
    char answer;   /* 'A'..'D', or 0 when the split has no answers (C-Eval test) */
    uint64_t line; /* line of the CSV file where the row starts */
} ev_item;

typedef struct {
    char *handle;       /* the subject's file stem and mapping.json key: "high_school_physics" */
    char *name;         /* the name the prompt uses: mapping.json "name" ("高中物理", "high school physics") */
    int category;       /* index into ev_set.categories */
    int hard;           /* in C-Eval Hard */
    ev_item *dev;       /* (ndev) the few-shot rows, in file order */
    size_t ndev;
    ev_item *items;     /* (nitems) the questions of the split */
    size_t nitems;
} ev_subject;

/* A bad CSV row or file: where and why (main.c prints them; the run goes on without the row). */
typedef struct {
    char *file;
    uint64_t line;
    char *why;
} ev_bad;

#define EV_MAX_CATEGORIES 16

typedef struct {
    ev_task task;
    char *split;
    ev_subject *subj; /* (nsubj) in mapping.json order */
    size_t nsubj;
    char *categories[EV_MAX_CATEGORIES]; /* STEM, Social Sciences, Humanities, Other, then any other */
    int ncategories;
    ev_bad *bad; /* (nbad) rows skipped */
    size_t nbad;
} ev_set;

/* The subjects of C-Eval Hard (the official list of 8), NULL-terminated. */
extern const char *const ev_ceval_hard[];

/* ev_set_load: reads DIR/mapping.json and, for every subject in it (or only those named in subjects, a
 * comma-separated list of handles; NULL = all), its dev rows and the rows of split. Bad rows are skipped and
 * listed in set->bad. Returns 0, or FT_EIO (a missing directory or file, named in why), FT_EPARSE
 * (mapping.json malformed, a CSV header without the expected columns), FT_EINVAL (an unknown subject or
 * split, named in why). set is released on failure too. */
int ev_set_load(ev_set *set, ev_task task, const char *dir, const char *split, const char *subjects,
                ft_buf *why);
void ev_set_release(ev_set *set);
/* The number of questions over all subjects. */
size_t ev_set_questions(const ev_set *set);

/* ---- prompts (prompt.c) ------------------------------------------------------------------------------- */

/* ev_prompt_prefix: appends the task's header for subject s and its first shots dev rows with their answers
 * (shots <= s->ndev). */
void ev_prompt_prefix(ft_buf *out, ev_task t, const ev_subject *s, int shots);
/* ev_prompt_question: appends the question it as the prompt ends it, up to and including the answer cue
 * ("答案：", "答案是：", "Answer:"). */
void ev_prompt_question(ft_buf *out, ev_task t, const ev_item *it);
/* ev_prompt_letter_context: appends the answer cue followed by the letter as a shot writes it ("答案：A",
 * "Answer: A"): the default rule takes the id the letter gets at the end of this string. */
void ev_prompt_letter_context(ft_buf *out, ev_task t, char letter);

/* ---- scores (report.c) ------------------------------------------------------------------------------- */

/* ev_argmax4: the index (0..3) of the largest of v[0..3]; the first one on ties, NaN never wins. */
int ev_argmax4(const float v[4]);

typedef struct {
    size_t correct, total;
} ev_count;

typedef struct {
    double avg_subjects;   /* mean of the subjects' accuracies (the official average), 0..1 */
    double avg_questions;  /* correct / questions over all subjects */
    double category[EV_MAX_CATEGORIES]; /* mean accuracy of the subjects in each category; NaN when none */
    int category_n[EV_MAX_CATEGORIES];
    double hard;           /* mean over the Hard subjects present; NaN when none */
    int hard_n;
    size_t correct, total;
    int nsubjects;         /* subjects with at least one question */
} ev_summary;

/* ev_summarize: the summary of per-subject counts (n = set->nsubj; subjects without questions are left out
 * of every mean). */
void ev_summarize(const ev_set *set, const ev_count *counts, ev_summary *out);
/* ev_report_table: the table on f: one line per subject, the categories, Hard (C-Eval), the averages. */
void ev_report_table(FILE *f, const ev_set *set, const ev_count *counts, const ev_summary *s);

/* What the JSON report says about the run besides the scores. */
typedef struct {
    const char *model, *adapter, *tokenizer, *data, *letter_rule, *quant;
    int shots, bos;
    uint32_t letter_ids[4];
    uint64_t tokens_forwarded, tokens_without_reuse;
    uint64_t truncated; /* prompts cut to fit the model's positions */
    double seconds;
    int prefix_reuse;   /* 0 with --no-prefix-reuse */
    int max_length;     /* prompt length limit in tokens, 0 = none */
} ev_run_info;

/* ev_report_json: appends the JSON report to out: the run, the summary, every subject (correct, total, acc)
 * and, when preds is not NULL, each question's prediction (preds[k] for the k-th question in set order:
 * 'A'..'D'). */
void ev_report_json(ft_buf *out, const ev_set *set, const ev_count *counts, const ev_summary *s,
                    const ev_run_info *run, const char *preds);
/* ev_report_submission: appends C-Eval's submission JSON {subject: {id: letter}} for preds. */
void ev_report_submission(ft_buf *out, const ev_set *set, const char *preds);

#endif
