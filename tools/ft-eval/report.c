/* report.c: per-subject counts turned into the scores C-Eval reports (subject accuracy, the category means,
 * Hard, the average over subjects and over questions), printed as a table or written as JSON.
 * Rule: every mean is computed here from the counts, once; the table and the JSON print the same numbers. */
#include <math.h>
#include <string.h>

#include "eval.h"
#include "json.h"

int ev_argmax4(const float v[4]) {
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (v[k] > v[best] || (isnan(v[best]) && !isnan(v[k]))) best = k;
    return best;
}

void ev_summarize(const ev_set *set, const ev_count *counts, ev_summary *out) {
    memset(out, 0, sizeof *out);
    double sum = 0, cat[EV_MAX_CATEGORIES] = {0}, hard = 0;
    for (size_t i = 0; i < set->nsubj; i++) {
        const ev_count *c = &counts[i];
        if (!c->total) continue;
        double acc = (double)c->correct / (double)c->total;
        out->correct += c->correct;
        out->total += c->total;
        out->nsubjects++;
        sum += acc;
        cat[set->subj[i].category] += acc;
        out->category_n[set->subj[i].category]++;
        if (set->subj[i].hard) hard += acc, out->hard_n++;
    }
    out->avg_subjects = out->nsubjects ? sum / out->nsubjects : NAN;
    out->avg_questions = out->total ? (double)out->correct / (double)out->total : NAN;
    for (int k = 0; k < set->ncategories; k++)
        out->category[k] = out->category_n[k] ? cat[k] / out->category_n[k] : NAN;
    out->hard = out->hard_n ? hard / out->hard_n : NAN;
}

static void pct(FILE *f, double v) {
    if (isnan(v)) fprintf(f, "%8s\n", "-");
    else fprintf(f, "%8.2f\n", 100 * v);
}

void ev_report_table(FILE *f, const ev_set *set, const ev_count *counts, const ev_summary *s) {
    fprintf(f, "%-42s %-16s %7s %6s %8s\n", "subject", "category", "correct", "total", "acc");
    for (size_t i = 0; i < set->nsubj; i++) {
        const ev_count *c = &counts[i];
        fprintf(f, "%-42s %-16s %7zu %6zu ", set->subj[i].handle, set->categories[set->subj[i].category],
                c->correct, c->total);
        pct(f, c->total ? (double)c->correct / (double)c->total : NAN);
    }
    fprintf(f, "\n%-42s %-16s %7s %6s %8s\n", "average", "", "", "count", "acc");
    for (int k = 0; k < set->ncategories; k++) {
        fprintf(f, "%-42s %-16s %7s %6d ", set->categories[k], "subjects", "", s->category_n[k]);
        pct(f, s->category[k]);
    }
    if (set->task == EV_CEVAL) {
        fprintf(f, "%-42s %-16s %7s %6d ", "Hard", "subjects", "", s->hard_n);
        pct(f, s->hard);
    }
    fprintf(f, "%-42s %-16s %7s %6d ", "Average (over subjects, official)", "subjects", "", s->nsubjects);
    pct(f, s->avg_subjects);
    fprintf(f, "%-42s %-16s %7zu %6zu ", "Average (over questions)", "questions", s->correct, s->total);
    pct(f, s->avg_questions);
}

static void put_num(ft_buf *b, double v) {
    if (isnan(v)) ft_buf_adds(b, "null");
    else ft_buf_addf(b, "%.10g", v);
}

static void put_str(ft_buf *b, const char *s) {
    if (s) ft_json_put_string(b, s, strlen(s));
    else ft_buf_adds(b, "null");
}

void ev_report_json(ft_buf *b, const ev_set *set, const ev_count *counts, const ev_summary *s,
                    const ev_run_info *run, const char *preds) {
    ft_buf_addf(b, "{\n  \"tool\": \"ft-eval %s\",\n  \"task\": \"%s\",\n  \"split\": ", FT_VERSION,
                ev_task_names[set->task]);
    put_str(b, set->split);
    ft_buf_adds(b, ",\n  \"model\": ");
    put_str(b, run->model);
    ft_buf_adds(b, ",\n  \"adapter\": ");
    put_str(b, run->adapter);
    ft_buf_adds(b, ",\n  \"tokenizer\": ");
    put_str(b, run->tokenizer);
    ft_buf_adds(b, ",\n  \"data\": ");
    put_str(b, run->data);
    ft_buf_adds(b, ",\n  \"quant\": ");
    put_str(b, run->quant);
    ft_buf_addf(b, ",\n  \"shots\": %d,\n  \"bos\": %s,\n  \"letter_ids\": {\"rule\": ", run->shots,
                run->bos ? "true" : "false");
    put_str(b, run->letter_rule);
    for (int k = 0; k < 4; k++) ft_buf_addf(b, ", \"%c\": %u", 'A' + k, run->letter_ids[k]);
    ft_buf_addf(b, "},\n  \"max_length\": %d,\n  \"prefix_reuse\": %s,\n", run->max_length,
                run->prefix_reuse ? "true" : "false");
    ft_buf_addf(
        b, "  \"tokens\": {\"forwarded\": %llu, \"without_reuse\": %llu, \"truncated_prompts\": %llu},\n",
        (unsigned long long)run->tokens_forwarded, (unsigned long long)run->tokens_without_reuse,
        (unsigned long long)run->truncated);
    ft_buf_adds(b, "  \"seconds\": ");
    put_num(b, run->seconds);
    ft_buf_adds(b, ",\n  \"questions_per_second\": ");
    put_num(b, run->seconds > 0 ? (double)s->total / run->seconds : NAN);
    ft_buf_addf(b,
                ",\n  \"summary\": {\"subjects\": %d, \"correct\": %zu, \"total\": %zu, \"avg_subjects\": ",
                s->nsubjects, s->correct, s->total);
    put_num(b, s->avg_subjects);
    ft_buf_adds(b, ", \"avg_questions\": ");
    put_num(b, s->avg_questions);
    ft_buf_adds(b, ", \"hard\": ");
    if (set->task == EV_CEVAL) {
        ft_buf_addf(b, "{\"subjects\": %d, \"acc\": ", s->hard_n);
        put_num(b, s->hard);
        ft_buf_adds(b, "}");
    } else {
        ft_buf_adds(b, "null");
    }
    ft_buf_adds(b, ",\n    \"categories\": {");
    for (int k = 0; k < set->ncategories; k++) {
        ft_buf_adds(b, k ? ", " : "");
        put_str(b, set->categories[k]);
        ft_buf_addf(b, ": {\"subjects\": %d, \"acc\": ", s->category_n[k]);
        put_num(b, s->category[k]);
        ft_buf_adds(b, "}");
    }
    ft_buf_adds(b, "}},\n  \"subjects\": [");
    for (size_t i = 0, q = 0; i < set->nsubj; i++) {
        const ev_subject *sj = &set->subj[i];
        const ev_count *c = &counts[i];
        ft_buf_adds(b, i ? ",\n    {\"subject\": " : "\n    {\"subject\": ");
        put_str(b, sj->handle);
        ft_buf_adds(b, ", \"name\": ");
        put_str(b, sj->name);
        ft_buf_adds(b, ", \"category\": ");
        put_str(b, set->categories[sj->category]);
        ft_buf_addf(b, ", \"hard\": %s, \"correct\": %zu, \"total\": %zu, \"acc\": ",
                    sj->hard ? "true" : "false", c->correct, c->total);
        put_num(b, c->total ? (double)c->correct / (double)c->total : NAN);
        if (preds) {
            ft_buf_adds(b, ", \"predictions\": [");
            for (size_t j = 0; j < sj->nitems; j++, q++) {
                ft_buf_adds(b, j ? ", {\"id\": " : "{\"id\": ");
                put_str(b, sj->items[j].id);
                ft_buf_addf(b, ", \"pred\": \"%c\", \"answer\": ", preds[q]);
                if (sj->items[j].answer) ft_buf_addf(b, "\"%c\"}", sj->items[j].answer);
                else ft_buf_adds(b, "null}");
            }
            ft_buf_adds(b, "]");
        }
        ft_buf_adds(b, "}");
    }
    ft_buf_adds(b, "\n  ]\n}\n");
}

void ev_report_submission(ft_buf *b, const ev_set *set, const char *preds) {
    ft_buf_adds(b, "{");
    for (size_t i = 0, q = 0; i < set->nsubj; i++) {
        const ev_subject *sj = &set->subj[i];
        ft_buf_adds(b, i ? ",\n  " : "\n  ");
        put_str(b, sj->handle);
        ft_buf_adds(b, ": {");
        for (size_t j = 0; j < sj->nitems; j++, q++) {
            ft_buf_adds(b, j ? ", " : "");
            put_str(b, sj->items[j].id);
            ft_buf_addf(b, ": \"%c\"", preds[q]);
        }
        ft_buf_adds(b, "}");
    }
    ft_buf_adds(b, "\n}\n");
}
