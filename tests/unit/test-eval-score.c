/* test-eval-score: the prediction rule (argmax of the four letter logits, first on ties, NaN never wins) and
 * the scores: subject accuracy, category means over subjects, Hard, the average over subjects (official) and
 * over questions, subjects without questions left out; the JSON report and the submission JSON parse and
 * carry the same numbers. */
#include <math.h>
#include <string.h>

#include "eval.h"
#include "json.h"
#include "tap.h"

static int near(double a, double b) { return fabs(a - b) < 1e-12; }

int main(void) {
    is_int(ev_argmax4((const float[4]){0.1f, 0.5f, 0.2f, -1}), 1, "argmax");
    is_int(ev_argmax4((const float[4]){2, 2, 2, 2}), 0, "ties go to the first letter");
    is_int(ev_argmax4((const float[4]){1, 3, 3, 0}), 1, "ties go to the earlier letter");
    is_int(ev_argmax4((const float[4]){NAN, -5, NAN, -4}), 3, "NaN never wins");
    is_int(ev_argmax4((const float[4]){-INFINITY, -INFINITY, -1e30f, -INFINITY}), 2, "-inf logits");

    /* 4 subjects: a (STEM, hard) 1/2, b (STEM) 3/3, c (Other) 0/5, d (Humanities) no questions */
    ev_item ia[2] = {{"0", "q", {"a", "b", "c", "d"}, 'A', 2}, {"1", "q", {"a", "b", "c", "d"}, 'B', 3}};
    ev_subject subj[4] = {{"advanced_mathematics", "高等数学", 0, 1, NULL, 0, ia, 2},
                          {"b", "乙", 0, 0, NULL, 0, NULL, 0},
                          {"c", "丙", 3, 0, NULL, 0, NULL, 0},
                          {"d", "丁", 2, 0, NULL, 0, NULL, 0}};
    ev_set set;
    memset(&set, 0, sizeof set);
    set.task = EV_CEVAL;
    set.split = "val";
    set.subj = subj;
    set.nsubj = 4;
    char *cats[4] = {"STEM", "Social Sciences", "Humanities", "Other"};
    for (int i = 0; i < 4; i++) set.categories[i] = cats[i];
    set.ncategories = 4;
    ev_count counts[4] = {{1, 2}, {3, 3}, {0, 5}, {0, 0}};
    ev_summary s;
    ev_summarize(&set, counts, &s);
    is_int(s.nsubjects, 3, "subjects with questions");
    ok(s.correct == 4 && s.total == 10, "question totals");
    ok(near(s.avg_questions, 0.4), "average over questions = 4/10 (%g)", s.avg_questions);
    ok(near(s.avg_subjects, (0.5 + 1.0 + 0.0) / 3), "average over subjects = mean of 1/2, 3/3, 0/5 (%g)",
       s.avg_subjects);
    ok(near(s.category[0], 0.75) && s.category_n[0] == 2, "STEM = mean(0.5, 1) (%g)", s.category[0]);
    ok(isnan(s.category[1]) && s.category_n[1] == 0, "a category without subjects is NaN");
    ok(isnan(s.category[2]) && s.category_n[2] == 0,
       "a subject without questions is left out of its category");
    ok(near(s.category[3], 0.0) && s.category_n[3] == 1, "Other = 0");
    ok(near(s.hard, 0.5) && s.hard_n == 1, "Hard = the hard subject's accuracy (%g)", s.hard);

    ev_run_info run = {"m", NULL, "tok", "data", "context", "fp32", 5, 1, {10, 11, 12, 13}, 100, 400, 2, 2.0,
                       1, 512};
    char preds[3] = {'A', 'C', 0};
    ft_buf b;
    ft_buf_init(&b);
    ev_report_json(&b, &set, counts, &s, &run, preds);
    cJSON *j = NULL;
    size_t off;
    int rc = ft_json_parse(b.data, b.len, &j, &off);
    is_int(rc, 0, "the JSON report parses");
    if (rc == 0) {
        const cJSON *sum = cJSON_GetObjectItem(j, "summary");
        ok(near(cJSON_GetObjectItem(sum, "avg_questions")->valuedouble, 0.4), "JSON avg_questions");
        ok(near(cJSON_GetObjectItem(sum, "avg_subjects")->valuedouble, 0.5), "JSON avg_subjects");
        ok(near(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "hard"), "acc")->valuedouble, 0.5), "JSON hard");
        const cJSON *cat = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "categories"), "Social Sciences");
        ok(cJSON_IsNull(cJSON_GetObjectItem(cat, "acc")), "an empty category's acc is null");
        const cJSON *subs = cJSON_GetObjectItem(j, "subjects");
        is_int(cJSON_GetArraySize(subs), 4, "every subject listed");
        const cJSON *a = cJSON_GetArrayItem(subs, 0);
        ok(cJSON_GetObjectItem(a, "correct")->valueint == 1 &&
               cJSON_GetObjectItem(a, "total")->valueint == 2 && cJSON_IsTrue(cJSON_GetObjectItem(a, "hard")),
           "subject counts and hard flag");
        const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "predictions"), 1);
        ok(p && !strcmp(cJSON_GetObjectItem(p, "pred")->valuestring, "C") &&
               !strcmp(cJSON_GetObjectItem(p, "answer")->valuestring, "B") &&
               !strcmp(cJSON_GetObjectItem(p, "id")->valuestring, "1"),
           "per-question predictions with id and answer");
        const cJSON *t = cJSON_GetObjectItem(j, "tokens");
        ok(cJSON_GetObjectItem(t, "forwarded")->valueint == 100 &&
               cJSON_GetObjectItem(t, "without_reuse")->valueint == 400,
           "token counts");
        ok(cJSON_IsTrue(cJSON_GetObjectItem(j, "prefix_reuse")) &&
               cJSON_GetObjectItem(j, "max_length")->valueint == 512,
           "prefix reuse and the length limit");
        ok(near(cJSON_GetObjectItem(j, "questions_per_second")->valuedouble, 5.0),
           "questions/s = total / seconds");
        cJSON_Delete(j);
    }
    ft_buf_clear(&b);
    ev_report_submission(&b, &set, preds);
    rc = ft_json_parse(b.data, b.len, &j, &off);
    is_int(rc, 0, "the submission JSON parses");
    if (rc == 0) {
        const cJSON *a = cJSON_GetObjectItem(j, "advanced_mathematics");
        ok(a && !strcmp(cJSON_GetObjectItem(a, "0")->valuestring, "A") &&
               !strcmp(cJSON_GetObjectItem(a, "1")->valuestring, "C"),
           "{subject: {id: letter}}");
        ok(cJSON_IsObject(cJSON_GetObjectItem(j, "d")), "a subject without questions is an empty object");
        cJSON_Delete(j);
    }
    ft_buf_clear(&b);
    FILE *f = fmemopen(NULL, 8192, "w+");
    ev_report_table(f, &set, counts, &s);
    rewind(f);
    char line[256];
    int found_hard = 0, found_avg = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Hard ", 5) && strstr(line, "50.00")) found_hard = 1;
        if (!strncmp(line, "Average (over questions)", 24) && strstr(line, "40.00")) found_avg = 1;
    }
    fclose(f);
    ok(found_hard && found_avg, "the table prints Hard and the averages in percent");
    ft_buf_release(&b);
    return done_testing();
}
